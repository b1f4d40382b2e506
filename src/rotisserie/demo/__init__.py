"""
``rotisserie demo``: a pool of demo keys against a simulated vendor.

:func:`run_demo` starts the simulator on 127.0.0.1, builds a pool of demo
keys with known limits and sends a mixed workload from three endpoints
through a real HTTP client, then returns a :class:`DemoSummary`. The
command line adds a live view and prints the summary.

.. versionadded:: 0.2.0
"""

from __future__ import annotations

from ._frame import Frame, Monitor
from ._runner import run_demo
from ._settings import CLIENTS, ENDPOINTS, ClientName, DemoSettings, EndpointPlan
from ._summary import DemoSummary, EndpointSummary, KeySummary

__all__ = [
    "CLIENTS",
    "ENDPOINTS",
    "ClientName",
    "DemoSettings",
    "DemoSummary",
    "EndpointPlan",
    "EndpointSummary",
    "Frame",
    "KeySummary",
    "Monitor",
    "run_demo",
]
