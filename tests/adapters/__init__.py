"""Tests of the HTTP client adapters."""
