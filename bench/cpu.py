"""CPU time of the processes a benchmark involves, by role, from /proc (Linux).

    cpu.py snapshot > before.json      # CPU seconds so far, by role
    cpu.py per-message before.json N   # JSON: CPU microseconds per message since, by role

Roles: broker (RabbitMQ's beam.smp), postgres (every backend), core (fake-core), collector
(API, relay or worker), bench (the load generator and bare baselines). A process that ended
between the two readings is not counted: read both while the measured processes run.
"""
import json
import os
import sys

ROLES = {"beam.smp": "broker", "postgres": "postgres", "fake-core": "core",
         "collector": "collector", "bench": "bench"}


def snapshot():
    ticks = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = open(f"/proc/{pid}/stat").read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        role = ROLES.get(comm, "other")
        # utime + stime of the whole process (all its threads)
        seconds[role] = seconds.get(role, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return seconds


if sys.argv[1] == "snapshot":
    json.dump(snapshot(), sys.stdout)
else:
    before = json.load(open(sys.argv[2]))
    messages = float(sys.argv[3])
    now = snapshot()
    print(json.dumps({role: round((now[role] - before.get(role, 0.0)) * 1e6 / messages, 1)
                      for role in sorted(now) if now[role] > before.get(role, 0.0)}))
