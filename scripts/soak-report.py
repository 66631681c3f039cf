#!/usr/bin/env python3
"""The soak's report (scripts/soak): a Markdown summary on stdout from the run's own samples
(samples.jsonl, minutes.jsonl), and PNG plots beside them when matplotlib is installed.

Usage: soak-report.py OUT RATE SECONDS ERROR_RATE RETENTION SENT POSTED DEAD [SPANS]

SPANS (optional): stretches of the run, in seconds since the load began, to shade in the plots
as disturbed (`208-615,737-1600`: something else ran on the same cores then).
"""
import json
import statistics
import sys
from pathlib import Path

out = Path(sys.argv[1])
rate, seconds, error_rate, retention, sent, posted, dead = sys.argv[2:9]
spans = [tuple(float(x) for x in span.split("-")) for span in sys.argv[9].split(",")] if len(sys.argv) > 9 else []
samples = [json.loads(l) for l in open(out / "samples.jsonl") if l.strip()]
minutes = [json.loads(l) for l in open(out / "minutes.jsonl") if l.strip()]
load_end = float(seconds)
# Figures "under load" leave out the first 5 minutes (warm-up: pools, caches, allocator arenas)
# when the run is long enough to have them.
warm = 300 if load_end >= 1800 else load_end / 4
steady = [s for s in samples if warm <= s["t"] <= load_end]
procs = list(samples[0]["rss_kib"])


def slope_per_10min(points):
    """Least-squares slope of (t, v) in v per 10 minutes; 0 for fewer than 2 points."""
    if len(points) < 2:
        return 0.0
    ts = [t for t, _ in points]
    vs = [v for _, v in points]
    mt, mv = statistics.fmean(ts), statistics.fmean(vs)
    var = sum((t - mt) ** 2 for t in ts)
    return 0.0 if var == 0 else sum((t - mt) * (v - mv) for t, v in points) / var * 600


def mib(kib):
    return f"{kib / 1024:.0f}"


print(f"# Soak: {rate} collects/s for {int(load_end) // 60} min, core failing {float(error_rate):.0%}\n")
print(f"Recorded (answered 1000): {sent}; posted once: {posted}; dead-lettered (with reason): {dead}; "
      f"lost: 0; posted twice: 0 (checked against the database and the core). "
      f"OUTBOX_RETENTION {retention}. Steady state = from {warm / 60:.0f} min to the end of the load.\n")

p99 = [m["p99_ms"] for m in minutes if m["ok"]]
# Whole minutes of load (a run shorter than a minute has only its partial one).
full = [m for m in minutes if m["minute"] < int(load_end // 60)] or minutes
print("## Collect latency (per minute, as SkyPay sees it)\n")
print("| | p50 ms | p99 ms | max ms | collects/min |")
print("|---|---|---|---|---|")
for label, pick in (("first minute", full[:1]), ("median minute", None), ("worst minute", None), ("last minute", full[-1:])):
    if pick is None:
        ranked = sorted(full, key=lambda m: m["p99_ms"])
        pick = [ranked[len(ranked) // 2]] if label == "median minute" else ranked[-1:]
    for m in pick:
        print(f"| {label} ({m['minute']}) | {m['p50_ms']:.1f} | {m['p99_ms']:.1f} | {m['max_ms']:.1f} | {m['ok']} |")
errors = sum(m["errors"] for m in minutes)
print(f"\nUnexpected answers: {errors}.\n")

print("## Memory and connections per process (steady state)\n")
print("| process | RSS at start of steady state MiB | at end of load MiB | max MiB | trend MiB per 10 min | TCP connections min–max |")
print("|---|---|---|---|---|---|")
for p in procs:
    pts = [(s["t"], s["rss_kib"][p]) for s in steady if s["rss_kib"].get(p)]
    tcp = [s["tcp"][p] for s in steady if p in s["tcp"]]
    if not pts:
        continue
    print(f"| {p} | {mib(pts[0][1])} | {mib(pts[-1][1])} | {mib(max(v for _, v in pts))} | "
          f"{slope_per_10min(pts) / 1024:+.1f} | {min(tcp)}–{max(tcp)} |")

print("\n## Tables and queues\n")
db = [(s["t"], s["db"]) for s in steady if s["db"]]
last = samples[-1]["db"]
print("| | steady min | steady max | trend per 10 min | after the drain |")
print("|---|---|---|---|---|")
for key, label in (("outbox_rows", "outbox rows"), ("outbox_bytes", "outbox bytes"),
                   ("outbox_unpublished", "outbox unpublished"), ("waiting", "payments not final"),
                   ("pg_connections", "Postgres connections"),
                   ("events_rows", "collection_events rows"), ("collections", "collections")):
    vs = [d[key] for _, d in db]
    print(f"| {label} | {min(vs)} | {max(vs)} | {slope_per_10min([(t, d[key]) for t, d in db]):+.0f} | {last.get(key)} |")
queues = sorted({q for s in samples for q in s["queues"]})
for q in queues:
    vs = [s["queues"].get(q, 0) for s in steady]
    print(f"| queue {q} (messages ready) | {min(vs):.0f} | {max(vs):.0f} | "
          f"{slope_per_10min([(s['t'], s['queues'].get(q, 0)) for s in steady]):+.0f} | "
          f"{samples[-1]['queues'].get(q, 0):.0f} |")
if last.get("collections"):
    per = last["events_bytes"] / last["collections"]
    print(f"\ncollection_events keeps each payment's history (the audit trail, kept like the "
          f"collections themselves): {last['events_rows'] / last['collections']:.1f} rows and "
          f"{per:.0f} bytes per collection. The outbox is bounded by OUTBOX_RETENTION.")

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("\n(matplotlib is not installed: no plots)", file=sys.stderr)
    sys.exit(0)


def plot(name, title, ylabel, series, xs=None, vline=True):
    fig, ax = plt.subplots(figsize=(9, 3.6), dpi=100)
    for label, (x, y) in series.items():
        ax.plot(x, y, label=label, linewidth=1.2)
    if vline:
        ax.axvline(load_end / 60, color="grey", linestyle=":", linewidth=1)
    for i, (a, b) in enumerate(spans):
        ax.axvspan(a / 60, b / 60, color="orange", alpha=0.15,
                   label="other work on the same 2 cores" if i == 0 else None)
    ax.set_title(title)
    ax.set_xlabel("minutes since the load began (dotted: load ends, drain)")
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8, ncol=3)
    fig.tight_layout()
    fig.savefig(out / name)
    plt.close(fig)


t = [s["t"] / 60 for s in samples]
plot("latency.png", f"Collect latency per minute at {rate}/s", "ms",
     {"p99": ([m["minute"] + 0.5 for m in minutes], [m["p99_ms"] for m in minutes]),
      "p50": ([m["minute"] + 0.5 for m in minutes], [m["p50_ms"] for m in minutes])})
plot("rss.png", "Resident memory per process", "MiB",
     {p: (t, [(s["rss_kib"].get(p) or 0) / 1024 for s in samples]) for p in procs})
plot("connections.png", "Established TCP connections per process", "connections",
     {p: (t, [s["tcp"].get(p, 0) for s in samples]) for p in procs}
     | {"Postgres (server side)": (t, [s["db"].get("pg_connections", 0) for s in samples])})
plot("outbox.png", f"Outbox rows (OUTBOX_RETENTION {retention}) and payments not final", "rows",
     {"outbox rows": (t, [s["db"].get("outbox_rows", 0) for s in samples]),
      "outbox unpublished": (t, [s["db"].get("outbox_unpublished", 0) for s in samples]),
      "payments not final": (t, [s["db"].get("waiting", 0) for s in samples])})
plot("queues.png", "Messages ready per queue", "messages",
     {q: (t, [s["queues"].get(q, 0) for s in samples]) for q in queues})
plot("tables.png", "Table sizes", "MiB",
     {k: (t, [s["db"].get(k, 0) / 2**20 for s in samples])
      for k in ("outbox_bytes", "events_bytes", "collections_bytes")})
print(f"\nPlots: {', '.join(sorted(p.name for p in out.glob('*.png')))}", file=sys.stderr)
