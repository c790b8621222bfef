"""Benchmark: equivalence of 1,000 generated workflows x 4 targets over 400 days, vs brute force with cronsim.

Run: .venv/bin/python bench/bench_schedule.py [--workflows 1000] [--sample 12] [--fresh]
--fresh times the equivalence as a fresh process meets it (no warm-up: the tz tables are built on the way) and
skips brute force; `time .venv/bin/python bench/bench_schedule.py --fresh` adds the interpreter and its imports.
Every workflow gets its own expression (varied minutes, hours, zones, day rules) and its own Schedule object;
nothing is cached across workflows except tz transition tables (global data, like zoneinfo's own cache).
Brute force = enumerating every fire of the 400 days with cronsim (Debian semantics) once per target; it is
timed on a stratified sample and extrapolated, because the full run would take minutes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import time
from zoneinfo import ZoneInfo

from infra.model import Schedule
from infra.schedule.equivalence import TargetContext, check

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
HORIZON_DAYS = 400
ZONES = ("Europe/Berlin", "America/New_York", "Europe/London", "Asia/Tokyo", "Australia/Sydney", "Asia/Kolkata",
         "UTC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
TARGETS = ((TargetContext("aws", "aws"), TargetContext("azure", "azure"), TargetContext("gcp", "gcp"),
            TargetContext("onprem", "cron", host_timezone="Europe/Berlin")),
           (TargetContext("aws", "aws"), TargetContext("azure", "azure"), TargetContext("gcp", "gcp"),
            TargetContext("onprem", "systemd", host_timezone="UTC")))


def generate(n: int, seed: int = 7) -> list[Schedule]:
    """Return n schedules: a quarter each of */N, hourly, daily in a local zone, monthly with L or #."""
    rnd = random.Random(seed)
    out: list[Schedule] = []
    for i in range(n):
        zone = rnd.choice(ZONES)
        kind = i % 4
        if kind == 0:
            step = rnd.choice((5, 10, 15, 20))
            expr = f"{rnd.randrange(step)}-59/{step} * * * *" if rnd.random() < 0.5 else f"*/{step} * * * *"
        elif kind == 1:
            expr = f"{rnd.randrange(60)} * * * {rnd.choice(('*', 'MON-FRI', '*'))}"
        elif kind == 2:
            expr = f"{rnd.randrange(60)} {rnd.randrange(24)} * * *"
        else:
            day = "L *" if rnd.random() < 0.5 else f"* {rnd.choice(DAYS)}#{rnd.randint(1, 4)}"
            expr = f"{rnd.randrange(60)} {rnd.randrange(24)} {day.split()[0]} * {day.split()[1]}"
        out.append(Schedule("cron", expr, zone))
    return out


def run_equivalence(schedules: list[Schedule]) -> tuple[float, int, int]:
    """Check every schedule on 4 targets; return (seconds, verdicts, divergent verdicts)."""
    t0 = time.perf_counter()
    total = diverging = 0
    for i, schedule in enumerate(schedules):
        for verdict in check(schedule, TARGETS[i % 2], horizon_days=HORIZON_DAYS, start=START):
            total += 1
            diverging += not verdict.equivalent
    return time.perf_counter() - t0, total, diverging


def brute_force(schedule: Schedule) -> tuple[float, int]:
    """Enumerate every fire of the horizon with cronsim; return (seconds, fires)."""
    from cronsim import CronSim

    # cronsim has no '#' or L-with-names differences that matter here; it reads MON#2 and L like the canonical form.
    t0 = time.perf_counter()
    end = START + dt.timedelta(days=HORIZON_DAYS)
    count = 0
    for fire in CronSim(schedule.expression, START.astimezone(ZoneInfo(schedule.timezone))):
        if fire >= end:
            break
        count += 1
    return time.perf_counter() - t0, count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workflows", type=int, default=1000)
    parser.add_argument("--sample", type=int, default=12, help="workflows per kind timed with brute force")
    parser.add_argument("--fresh", action="store_true", help="no warm-up, no brute force: a fresh process's cost")
    args = parser.parse_args()
    schedules = generate(args.workflows)
    if args.fresh:
        seconds, total, diverging = run_equivalence(schedules)
        print(f"fresh process, no warm-up: {total} verdicts ({diverging} divergent) in {seconds:.2f} s")
        return
    run_equivalence(generate(8, seed=1))  # warm imports and the tz tables of the zones used
    seconds, total, diverging = run_equivalence(schedules)
    sample = [s for k in range(4) for s in schedules[k::4][: args.sample]]
    brute = [brute_force(s) for s in sample]
    per_kind = [sum(b[0] for b in brute[k * args.sample:(k + 1) * args.sample]) / args.sample for k in range(4)]
    brute_total = sum(per_kind) / 4 * len(schedules) * 4  # one enumeration per target
    with open("/proc/cpuinfo") as info:
        cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")),
                   platform.processor())
    print(f"date: {dt.date.today().isoformat()}  machine: nproc={os.cpu_count()} cpu={cpu} "
          f"python={platform.python_version()}")
    print(f"equivalence: {len(schedules)} workflows x 4 targets = {total} verdicts ({diverging} divergent) "
          f"over {HORIZON_DAYS} days in {seconds:.2f} s ({seconds / total * 1e3:.3f} ms/verdict)")
    print("brute force (cronsim, every fire, per target), mean s/workflow by kind [*/N, hourly, daily, monthly]: "
          + ", ".join(f"{x:.4f}" for x in per_kind))
    print(f"brute force extrapolated to {len(schedules)} x 4: {brute_total:.1f} s; ratio brute/symbolic = "
          f"{brute_total / seconds:.0f}x; fires enumerated in sample: {sum(b[1] for b in brute)}")


if __name__ == "__main__":
    main()
