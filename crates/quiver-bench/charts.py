"""Charts of the cross-driver benchmark: one SVG per workload from results.json (matplotlib).

python charts.py <results.json> <out dir>   (prints the files it wrote)

Each chart has one panel per measure — throughput (higher is better) and client CPU per unit
(lower is better), and peak memory for the stream — with a bar per peer at its median over the
rounds, a line across the range (min–max), and the ratio to the reference peer.
"""
import json
import math
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COLOURS = {"rust": "#b7410e", "python": "#3572a5", "go": "#00add8", "javascript": "#c9a400", "java": "#5c4a99"}
QUIVER = "#e5533d"

PANELS = {
    "return1": [("throughput", "queries/s (higher is better)"), ("cpu", "client CPU µs per query (lower is better)")],
    "stream": [
        ("throughput", "rows/s (higher is better)"),
        ("cpu", "client CPU µs per row (lower is better)"),
        ("peak_rss_mib", "peak RSS MiB (lower is better)"),
    ],
    "tx-read": [("throughput", "transactions/s (higher is better)"), ("cpu", "client CPU µs per transaction (lower is better)")],
    "tx-write": [("throughput", "transactions/s (higher is better)"), ("cpu", "client CPU µs per transaction (lower is better)")],
    "connect": [("throughput", "wall ms (lower is better)"), ("cpu", "client CPU ms (lower is better)")],
}

TITLES = {
    "return1": "W1: lock-step RETURN 1",
    "stream": "W2: {rows:,}-row stream (int + string + map)",
    "tx-read": "W3: {concurrency} concurrent read transaction functions (a random :QuiverBenchPerson by indexed id)",
    "tx-write": "W3 write: {concurrency} concurrent write transaction functions",
    "connect": "W4: connect + first query",
}

def number(v):
    """139000 -> 139,000; 3.6412 -> 3.64."""
    return f"{v:,.0f}" if v >= 100 else f"{v:.3g}"


RATIO_KEY = {"throughput": "throughput_ratio", "cpu": "cpu_ratio", "peak_rss_mib": "peak_rss_ratio"}


def main():
    results = json.loads(Path(sys.argv[1]).read_text())
    out = Path(sys.argv[2])
    meta = results["meta"]
    peers = {p["id"]: p for p in meta["peers"]}
    plt.rcParams.update({"font.size": 9, "svg.fonttype": "none", "font.family": "sans-serif"})
    for workload, panels in PANELS.items():
        rows = [s for s in results["summary"] if s["workload"] == workload and s["runs"] > 0]
        if not rows:
            continue
        labels = [peers[s["peer"]]["label"] for s in rows]
        fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 0.36 * len(rows) + 1.6), sharey=True)
        for ax, (key, title) in zip(axes, panels):
            medians = [s[key]["median"] for s in rows]
            lows = [m - s[key]["min"] for m, s in zip(medians, rows)]
            highs = [s[key]["max"] - m for m, s in zip(medians, rows)]
            colours = [QUIVER if s["peer"].startswith("quiver") else COLOURS.get(peers[s["peer"]]["language"], "grey") for s in rows]
            y = range(len(rows))
            ax.barh(y, medians, xerr=[lows, highs], color=colours, error_kw={"elinewidth": 0.8, "capsize": 2})
            top = max((m + h for m, h in zip(medians, highs) if math.isfinite(m + h)), default=1)
            for i, s in enumerate(rows):
                ratio = s[RATIO_KEY[key]]["median"]
                text = number(medians[i]) + (f"  ({ratio:.2f}×)" if ratio is not None and math.isfinite(ratio) else "")
                ax.text(medians[i] + highs[i] + top * 0.01, i, text, va="center", fontsize=7.5)
            ax.set_xlim(0, top * 1.35)
            ax.set_title(title, fontsize=9)
            ax.grid(axis="x", linewidth=0.3)
            ax.set_yticks(list(y))
            ax.set_yticklabels(labels)
        # Once: the panels share the y axis, so inverting each would undo it.
        axes[0].invert_yaxis()
        counts = meta["counts"]
        fig.suptitle(TITLES[workload].format(rows=counts["rows"], concurrency=counts["concurrency"]), fontsize=10.5)
        fig.text(
            0.01,
            0.005,
            f"{meta['date']} · {meta['machine']}, {meta['cores']} cores · {meta['server'].split(' at ')[0]} · "
            f"median of {max(s['runs'] for s in rows)} round(s), bars span min–max; ratios to {meta['reference']} per round"
            + (" · QUICK RUN (harness check, not a measurement)" if meta["quick"] else ""),
            fontsize=6.5,
            color="#555555",
        )
        fig.tight_layout(rect=(0, 0.03, 1, 1))
        path = out / f"{workload}.svg"
        fig.savefig(path, metadata={"Date": None})
        plt.close(fig)
        print(path)


if __name__ == "__main__":
    main()
