"""Turns scripts/bench's results (JSON lines) into the table: figure, baseline, ratio, target."""
import datetime
import json
import platform
import sys

rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows[r["figure"]] = r

def ratio_row(key, name, base_name, target):
    r = rows.get(key)
    if not r:
        return f"| {name} | — | — | — | ≥ {target:.2f} | not run |", False
    ratio = r["value"] / r["baseline"] if r["baseline"] else 0
    ok = ratio >= target
    extra = f" (c={r['concurrency']})" if "concurrency" in r else ""
    return (f"| {name}{extra} | {r['value']:.0f}/s | {base_name}: {r['baseline']:.0f}/s | {ratio:.2f} | ≥ {target:.2f} | {'PASS' if ok else 'FAIL'} |", ok)

out = []
oks = []
out.append(f"Run {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.node()} ({platform.machine()}, {__import__('os').cpu_count()} cores)")
out.append("")
out.append("| figure | value | baseline (same run) | ratio | target | result |")
out.append("|---|---|---|---|---|---|")
for key, name, base, target in [
    ("collect", "collect acks/s at its best concurrency", "pgbench, same transaction", 0.70),
    ("inquiry", "inquiry answers/s", "pgbench, same read", 0.50),
    ("relay", "relay: 100k backlog drained, msgs/s", "bare lapin publisher with confirms", 0.70),
    ("workers", "workers: posted/s to zero-latency fake-core", "bare HTTP client, c=32", 0.50),
]:
    line, ok = ratio_row(key, name, base, target)
    out.append(line)
    oks.append(ok)
ceilings = []
h = rows.get("http_ceiling")
if h and "inquiry" in rows:
    need = 0.50 * rows["inquiry"]["baseline"]
    ceilings.append(f"| ceiling: GET /healthz on the same server and client | {h['value']:.0f}/s | inquiry needs {need:.0f}/s for 0.50 | inquiry/ceiling {rows['inquiry']['value'] / h['value']:.2f} | — | {'target out of reach: the HTTP stack alone is slower than the target' if h['value'] < need else 'ceiling above target'} |")
b = rows.get("stack_ceiling")
if b and "inquiry" in rows:
    need = 0.50 * rows["inquiry"]["baseline"]
    ceilings.append(f"| ceiling: bare axum + sqlx server running the same read, nothing else | {b['value']:.0f}/s | inquiry needs {need:.0f}/s for 0.50 | inquiry/ceiling {rows['inquiry']['value'] / b['value']:.2f} | — | {'target out of reach: the bare stack alone is slower than the target' if b['value'] < need else 'ceiling above target'} |")
c = rows.get("consume_ceiling")
if c and "workers" in rows:
    need = 0.50 * rows["workers"]["baseline"]
    ceilings.append(f"| ceiling: bare RabbitMQ consumer (consume + ack, prefetch 32) | {c['value']:.0f}/s | workers need {need:.0f}/s for 0.50 | workers/ceiling {rows['workers']['value'] / c['value']:.2f} | — | {'target out of reach: the broker alone delivers slower than the target' if c['value'] < need else 'ceiling above target'} |")
out.extend(ceilings)
e = rows.get("e2e")
if e:
    ok = e["p99_ms"] < 250 and e["posted"] == e["sent"]
    oks.append(ok)
    out.append(f"| end-to-end collect → posted p99 at 200/s for 60 s ({e['posted']}/{e['sent']} posted, p50 {e['p50_ms']} ms) | {e['p99_ms']} ms | — | — | < 250 ms | {'PASS' if ok else 'FAIL'} |")
m = rows.get("rss")
if m:
    for who in ["api", "worker"]:
        mib = m[f"{who}_kib"] / 1024
        ok = mib < 100
        oks.append(ok)
        out.append(f"| {who} peak RSS during the above | {mib:.1f} MiB | — | — | < 100 MiB | {'PASS' if ok else 'FAIL'} |")
for k, r in rows.items():
    if k.startswith("collect_c"):
        res = r["result"]
        out.append(f"<!-- {k}: {res['per_second']:.0f}/s p50 {res['p50_ms']} ms p99 {res['p99_ms']} ms p999 {res['p999_ms']} ms -->")
print("\n".join(out))
print()
print("all targets met" if all(oks) else "SOME TARGETS MISSED")
