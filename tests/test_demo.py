"""Tests for ``rotisserie demo``: the run, its summary, its views and the command."""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass, replace
from typing import Any

import pytest
from click.testing import CliRunner, Result
from rich.console import Console

from rotisserie.cli import main
from rotisserie.demo import (
    CLIENTS,
    DemoSettings,
    DemoSummary,
    Frame,
    _runner,
    run_demo,
)
from rotisserie.demo._live import LiveMonitor, render_frame
from rotisserie.demo._plain import PlainMonitor, plain_line
from rotisserie.demo._report import render_summary
from rotisserie.demo._summary import percentile, summarize
from rotisserie.demo._tally import EndpointCounts, TallyView
from rotisserie.errors import ConfigError
from rotisserie.testing import KeyStats

SECRETS = (
    "sk-demo-test-AAAA1111secret",
    "sk-demo-test-BBBB2222secret",
    "sk-demo-test-CCCC3333secret",
    "sk-demo-test-DDDD4444secret",
)

# A small run: 4 keys x 25/s = 100/s ceiling, 300 requests, about 3 s in
# windows of 4 requests per 0.16 s. Four keys so that each endpoint owns one
# from the start (chat also gets the extra one) and batch has a key to hand
# on when it leaves.
SMALL = DemoSettings(keys=4, rate=25, requests=300, latency=0.005)

# Variables that make rich treat a pipe as a terminal or fix its width.
RICH_OVERRIDES = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS")


@dataclass
class Run:
    """One demo run and everything seen during it."""

    settings: DemoSettings
    summary: DemoSummary
    frames: list[Frame]
    last: Frame
    logs: str


class RecordingMonitor:
    """Keeps every frame it is shown."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []
        self.closed: Frame | None = None

    def update(self, frame: Frame) -> None:
        self.frames.append(frame)

    def close(self, frame: Frame) -> None:
        self.closed = frame


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def run_small(**overrides: Any) -> Run:
    """Run the small demo with the test tokens, keeping frames and log text."""
    settings = replace(SMALL, **overrides)
    monitor = RecordingMonitor()
    handler = _Collect()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        summary = run_demo(settings, monitor=monitor, tokens=SECRETS)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    assert monitor.closed is not None
    return Run(
        settings, summary, monitor.frames, monitor.closed, "\n".join(handler.lines)
    )


@pytest.fixture(scope="module", params=CLIENTS)
def client_run(request: pytest.FixtureRequest) -> Run:
    """The small run through each client (known limits), shared by tests."""
    return run_small(client=request.param)


@pytest.fixture(scope="module")
def default_run() -> Run:
    """The small run with the default client, shared by tests."""
    return run_small()


def owners(run: Run) -> list[dict[str, int]]:
    """How many keys each entered endpoint owned, frame by frame."""
    return [
        {e.name: len(e.keys) for e in frame.pool.endpoints if e.entered}
        for frame in run.frames
    ]


def assert_consistent(summary: DemoSummary, settings: DemoSettings) -> None:
    """Every request ended well, once, and the counts agree with each other."""
    assert summary.requests == settings.total
    assert summary.ok == settings.total
    assert summary.errors == 0
    assert sum(e.done for e in summary.endpoints.values()) == settings.total
    assert sum(e.share for e in summary.endpoints.values()) == pytest.approx(1.0)
    # The vendor admitted each request exactly once (429s are retried).
    assert sum(k.granted for k in summary.keys_detail.values()) == settings.total
    assert sum(k.rejected for k in summary.keys_detail.values()) == (
        summary.rate_limited
    )
    for endpoint in summary.endpoints.values():
        assert 0 < endpoint.p50_ms <= endpoint.p95_ms <= endpoint.p99_ms


def assert_no_secret(text: str) -> None:
    """No test token, nor a long piece of one, appears in ``text``."""
    for secret in SECRETS:
        assert secret not in text
        assert secret[-12:] not in text


# --- settings ------------------------------------------------------------------


def test_settings_defaults_last_about_20_s_at_the_ceiling() -> None:
    """4 keys x 20/s make an 80/s ceiling and 1600 requests, in 1 s windows."""
    settings = DemoSettings()

    assert (settings.ceiling, settings.total) == (80, 1600)
    assert settings.window == (20, 1.0)
    assert settings.client == "httpx"
    assert settings.is_async


def test_settings_window_is_short_against_a_small_run() -> None:
    """A 2 s run gets 0.1 s windows of 5 requests at 50/s: the rate stays exact."""
    settings = DemoSettings(keys=2, rate=50, requests=200)

    limit, seconds = settings.window

    assert limit == 5
    assert seconds == pytest.approx(0.1)
    assert limit / seconds == pytest.approx(settings.rate)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("keys", 0),
        ("rate", True),
        ("requests", -1),
        ("client", "urllib"),
        ("latency", -0.1),
    ],
)
def test_settings_reject_bad_values(field: str, value: object) -> None:
    """Each invalid field raises ConfigError naming it."""
    with pytest.raises(ConfigError, match=field):
        DemoSettings(**{field: value})  # type: ignore[arg-type]


def test_percentile_nearest_rank() -> None:
    """p50/p95/p99 of 1..100 are 50, 95 and 99; nothing gives 0."""
    values = [float(v) for v in range(100, 0, -1)]

    assert [percentile(values, q) for q in (50, 95, 99, 100)] == [50, 95, 99, 100]
    assert percentile([], 50) == 0.0


def test_summarize_measures_rate_shares_and_failures() -> None:
    """Rate is done over first start to last end; failures are named by kind."""
    tally = TallyView(
        total=4,
        taken=4,
        endpoints={
            "chat": EndpointCounts(ok=2, latencies=(0.01, 0.03)),
            "search": EndpointCounts(
                ok=1, failed=1, latencies=(0.02, 0.5), failures={"HTTP 503": 1}
            ),
        },
        first_start=100.0,
        last_end=102.0,
    )
    vendor = {"key-1": KeyStats(granted=3, rejected=2, max_in_flight=2)}

    summary = summarize(DemoSettings(keys=1, rate=4), tally, vendor)

    assert (summary.requests, summary.ok, summary.errors) == (4, 3, 1)
    assert summary.achieved_rps == 2.0
    assert summary.share_of_ceiling == 0.5
    assert summary.rate_limited == 2
    assert summary.errors_by_kind == {"HTTP 503": 1}
    assert summary.endpoints["chat"].share == 0.5
    assert summary.endpoints["search"].p50_ms == 20.0
    assert summary.endpoints["search"].p99_ms == 500.0
    assert summary.keys_detail["key-1"].max_in_flight == 2


# --- runs ------------------------------------------------------------------------


def test_run_demo_serves_every_request_through_each_client(client_run: Run) -> None:
    """Every client sends every request once; shares add up to 1; no token leaks."""
    summary = client_run.summary

    assert_consistent(summary, client_run.settings)
    assert summary.client == client_run.settings.client
    assert set(summary.endpoints) == {"chat", "search", "batch"}
    assert set(summary.keys_detail) == {"key-1", "key-2", "key-3", "key-4"}
    assert_no_secret(json.dumps(summary.to_dict()))
    assert_no_secret(client_run.logs)


def test_run_demo_known_limits_keep_429s_rare_on_every_client(client_run: Run) -> None:
    """
    With the keys' limits given, 429s stay under 2 % of requests, every request
    ends well and no stall drops the rate below half the ceiling.

    How close each client comes to the ceiling, and whether it gets no 429 at
    all, is timing on a shared machine: ``bench/run.py`` and the demo measure it.
    """
    summary = client_run.summary

    assert summary.rate_limited <= 0.02 * summary.requests
    assert summary.ok == summary.requests
    assert summary.share_of_ceiling >= 0.5


def test_run_demo_unknown_limits_learns_and_serves_everything() -> None:
    """Without per_window the pool learns from headers and 429s; all end well."""
    run = run_small(unknown_limits=True)

    assert_consistent(run.summary, run.settings)
    assert run.summary.unknown_limits
    assert_no_secret(run.logs)


def test_run_demo_batch_leaves_and_hands_its_key_on(default_run: Run) -> None:
    """batch stops taking requests half way, leaves, and its key goes round-robin."""
    summary = default_run.summary

    assert default_run.last.tally.endpoints["batch"].left
    assert {"chat": 2, "search": 1, "batch": 1} in owners(default_run)
    assert {"chat": 2, "search": 2} in owners(default_run)
    # batch's workers finish the requests they hold after the half-way mark.
    workers = default_run.settings.workers_per_endpoint
    assert summary.endpoints["batch"].done <= SMALL.total // 2 + workers
    assert summary.endpoints["chat"].share > summary.endpoints["search"].share


def test_run_demo_funnel_gives_the_freed_key_to_chat() -> None:
    """With funnel, batch's key goes to chat (priority 1), not to search."""
    run = run_small(funnel=True)

    assert run.summary.funnel
    assert {"chat": 3, "search": 1} in owners(run)
    assert {"chat": 2, "search": 2} not in owners(run)


def test_run_demo_rejects_a_wrong_number_of_tokens() -> None:
    """One token per key is required; nothing starts otherwise."""
    with pytest.raises(ConfigError, match="tokens"):
        run_demo(SMALL, tokens=SECRETS[:2])


# --- views -------------------------------------------------------------------------


def test_views_show_keys_and_endpoints_but_no_token(default_run: Run) -> None:
    """The live view, the plain lines and the summary name keys, never tokens."""
    console = Console(file=io.StringIO(), width=120, record=True)

    for frame in [*default_run.frames, default_run.last]:
        console.print(render_frame(frame, rate=0.0))
        console.print(plain_line(frame))
    console.print(render_summary(default_run.summary))
    text = console.export_text()

    assert "key-1" in text
    assert "batch" in text
    assert "p99" in text
    assert_no_secret(text)


def test_plain_monitor_writes_a_line_every_period(default_run: Run) -> None:
    """PlainMonitor writes one line per period once requests started."""
    lines: list[str] = []
    monitor = PlainMonitor(lines.append, every=1.0)

    for frame in default_run.frames:
        monitor.update(frame)
    monitor.close(default_run.last)

    elapsed = default_run.last.tally.elapsed()
    assert len(lines) in (int(elapsed), int(elapsed) - 1)
    assert all(" done " in line and "429" in line for line in lines)


def test_live_monitor_draws_on_a_terminal() -> None:
    """LiveMonitor draws frames on a terminal and leaves the last one."""
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    settings = replace(SMALL, requests=60)

    run_demo(settings, monitor=LiveMonitor(console), tokens=SECRETS)

    assert "progress" in out.getvalue()
    assert "60/60" in out.getvalue()
    assert_no_secret(out.getvalue())


# --- the command -------------------------------------------------------------------


def invoke(args: list[str], monkeypatch: pytest.MonkeyPatch) -> Result:
    """Run ``rotisserie demo`` with the test tokens, output not a terminal."""
    monkeypatch.setattr(_runner, "make_tokens", lambda count: list(SECRETS[:count]))
    return CliRunner().invoke(main, ["demo", *args], env=dict.fromkeys(RICH_OVERRIDES))


def test_cli_json_prints_only_the_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    """--json prints the summary as JSON with every documented field."""
    result = invoke(
        ["--json", "--keys", "4", "--rate", "25", "--requests", "120"], monkeypatch
    )

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert set(summary) >= {
        "client",
        "keys",
        "rate",
        "ceiling_rps",
        "achieved_rps",
        "share_of_ceiling",
        "requests",
        "ok",
        "rate_limited",
        "errors",
        "elapsed_s",
        "endpoints",
        "keys_detail",
    }
    assert summary["ceiling_rps"] == 100
    assert summary["requests"] == summary["ok"] == 120
    assert set(summary["endpoints"]["chat"]) == {
        "done",
        "share",
        "p50_ms",
        "p95_ms",
        "p99_ms",
    }
    assert set(summary["keys_detail"]["key-1"]) == {
        "granted",
        "rejected",
        "max_in_flight",
    }
    assert_no_secret(result.output)


def test_cli_plain_output_when_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Piped, the command prints a header line and the summary, no live view."""
    result = invoke(
        ["--client", "requests", "--keys", "4", "--requests", "120", "--latency", "0"],
        monkeypatch,
    )

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("rotisserie demo: requests · 4 keys")
    assert "of the 80/s ceiling" in result.stdout
    assert "\x1b[" not in result.stdout  # no cursor movement, no colour
    assert_no_secret(result.output)


def test_cli_rejects_an_unknown_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """--client outside the choices is a usage error (exit 2)."""
    result = invoke(["--client", "urllib3"], monkeypatch)

    assert result.exit_code == 2
    assert "urllib3" in result.output
