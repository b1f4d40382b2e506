"""
Grant cost: microseconds per take_key + mark_result pair, sync and async, at
10 and at 10,000 keys, for rotisserie, the published peer and a naive floor.

    .venv/bin/python bench/overhead.py

The peer is installed into ``bench/.peer-venv`` on first use. All numbers come
from one run on one machine; read them as ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import sys

from _peer import PEER_VERSION, peer_python, run_worker


def measure(
    pairs: int, repeats: int, with_peer: bool = True
) -> dict[str, dict[str, float]]:
    """Microseconds per pair, by library and then by ``mode/keys``."""
    common = ("--pairs", str(pairs), "--repeats", str(repeats))
    results: dict[str, dict[str, float]] = {}
    results["rotisserie"] = _as_floats(
        run_worker(sys.executable, "_overhead_worker.py", *common)
    )
    results["naive"] = _as_floats(
        run_worker(sys.executable, "_overhead_worker.py", "--modes", "naive", *common)
    )
    if with_peer:
        # The peer scans every key on each grant; fewer pairs keep its 10,000-key
        # rows to seconds rather than minutes, and the median stays comparable.
        peer_pairs = ("--pairs", str(max(pairs // 20, 200)), "--repeats", str(repeats))
        results[f"peer {PEER_VERSION}"] = _as_floats(
            run_worker(peer_python(), "_overhead_worker.py", *peer_pairs)
        )
    return results


def table(results: dict[str, dict[str, float]]) -> str:
    """A Markdown table: one row per mode and key count."""
    ours = results["rotisserie"]
    peer_name = next((name for name in results if name.startswith("peer")), None)
    lines = [
        "| mode | keys | rotisserie µs | "
        + (f"{peer_name} µs | peer / ours | " if peer_name else "")
        + "naive µs |",
        "|---|---:|---:|" + ("---:|---:|" if peer_name else "") + "---:|",
    ]
    for row, value in ours.items():
        mode, keys = row.split("/")
        naive = results["naive"].get(f"naive/{keys}", float("nan"))
        cells = [mode, f"{int(keys):,}", f"{value:.2f}"]
        if peer_name:
            peer = results[peer_name][row]
            cells += [f"{peer:.2f}", f"{peer / value:.1f}×"]
        cells.append(f"{naive:.3f}")
        lines.append("| " + " | ".join(cells) + " |")
    scale = {
        mode: ours[f"{mode}/10000"] / ours[f"{mode}/10"] for mode in ("sync", "async")
    }
    lines.append("")
    lines.append(
        "Cost at 10,000 keys over cost at 10: "
        + ", ".join(f"{mode} {ratio:.2f}×" for mode, ratio in scale.items())
    )
    return "\n".join(lines)


def _as_floats(data: object) -> dict[str, float]:
    assert isinstance(data, dict)
    return {str(k): float(v) for k, v in data.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--no-peer", action="store_true", help="skip the published peer"
    )
    args = parser.parse_args()
    print(table(measure(args.pairs, args.repeats, with_peer=not args.no_peer)))


if __name__ == "__main__":
    main()
