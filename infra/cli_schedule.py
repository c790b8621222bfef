"""`lockstep schedule translate | fires | check`: native forms, platform fire times, equivalence."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from infra.errors import LockstepError
from infra.model import Schedule
from infra.schedule.canonical import CronSyntaxError, parse_cron
from infra.schedule.cronfields import NativeSyntaxError
from infra.schedule.platforms import PLATFORMS, fires
from infra.schedule.translate import PLATFORMS as TARGET_PLATFORMS
from infra.schedule.translate import Native, translate
from infra.schedule.tzmap import UnknownZone, zone_map


def register(subparsers: Any) -> None:
    """Add `schedule translate|fires|check` to the lockstep CLI."""
    top = subparsers.add_parser("schedule", help="translate schedules, list platform fire times, check equivalence")
    sub = top.add_subparsers(dest="schedule_command", required=True)
    tr = sub.add_parser("translate", help="native form of a canonical cron schedule on every platform")
    tr.add_argument("--cron", required=True, help="canonical 5-field cron expression")
    tr.add_argument("--tz", default="UTC", help="IANA time zone of the schedule")
    tr.add_argument("--azure-plan", default="premium", choices=("consumption", "flex-consumption", "premium",
                                                                 "dedicated"))
    tr.add_argument("--azure-os", default="linux", choices=("linux", "windows"))
    tr.add_argument("--host-tz", default="UTC", help="time zone of the on-prem host")
    tr.add_argument("--json", action="store_true")
    tr.set_defaults(func=cmd_translate)
    fi = sub.add_parser("fires", help="next fire instants of a native expression, as the platform fires it")
    fi.add_argument("--platform", required=True, choices=PLATFORMS)
    fi.add_argument("--expression", required=True)
    fi.add_argument("--tz", default="UTC")
    fi.add_argument("--start", default=None, help="anchor of rate/interval schedules (ISO 8601)")
    fi.add_argument("--after", required=True, help="ISO 8601 instant; fires strictly after it are listed")
    fi.add_argument("--count", type=int, default=10)
    fi.add_argument("--json", action="store_true")
    fi.set_defaults(func=cmd_fires)
    ch = sub.add_parser("check", help="equivalence of every workflow on every target")
    ch.add_argument("--root", type=Path, default=None)
    ch.add_argument("--horizon-days", type=int, default=400)
    ch.add_argument("--start", default=None, help="horizon start (ISO 8601; default now)")
    ch.add_argument("--json", action="store_true")
    ch.set_defaults(func=cmd_check)


def cmd_translate(args: argparse.Namespace) -> int:
    """Print each platform's native form of --cron in --tz, or why it is refused."""
    try:
        parse_cron(args.cron)
        zone_map(args.tz)
    except (CronSyntaxError, UnknownZone) as exc:
        raise LockstepError(f"schedule translate: {args.cron!r}: {exc}") from exc
    schedule = Schedule("cron", " ".join(args.cron.split()), args.tz)
    out: dict[str, dict[str, object]] = {}
    for platform in TARGET_PLATFORMS:
        result = translate(schedule, platform, azure_plan=args.azure_plan, azure_os=args.azure_os,
                           host_timezone=args.host_tz)
        if isinstance(result, Native):
            out[platform] = {"expression": result.expression, "timezone": result.timezone,
                             "settings": dict(result.settings), "notes": list(result.notes)}
        else:
            out[platform] = {"refused": True, "reason": result.reason, "fix": result.fix}
    if args.json:
        print(json.dumps({"cron": schedule.expression, "timezone": args.tz, "targets": out}, indent=2))
        return 0
    for platform, item in out.items():
        if item.get("refused"):
            print(f"{platform:8} REFUSED: {item['reason']} — {item['fix']}")
        else:
            extra = ", ".join(f"{k}={v}" for k, v in dict(item["settings"]).items())  # type: ignore[call-overload]
            print(f"{platform:8} {item['expression']}  [{item['timezone']}]{'  ' + extra if extra else ''}")
            for note in item["notes"]:  # type: ignore[attr-defined]
                print(f"{'':8}   note: {note}")
    return 0


def cmd_fires(args: argparse.Namespace) -> int:
    """Print the next --count instants (UTC) strictly after --after, as --platform fires --expression."""
    after, start = _instant(args.after, "--after"), _instant(args.start, "--start") if args.start else None
    if args.count < 1:
        raise LockstepError("schedule fires: --count must be at least 1")
    try:
        got = fires(args.platform, args.expression, after=after, count=args.count, tz=args.tz, start=start)
    except NativeSyntaxError as exc:
        print(f"lockstep schedule fires: {args.platform} would reject {args.expression!r}: {exc}", file=sys.stderr)
        return 2
    stamps = [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in got]
    if args.json:
        print(json.dumps({"platform": args.platform, "fires": stamps}))
    else:
        print("\n".join(stamps))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Check every workflow on every target; exit 1 if any divergence is not accepted."""
    from infra.loader import load_repo
    from infra.schedule.workflow_check import check_all

    result = load_repo(args.root)
    if result.errors:
        raise LockstepError(f"schedule check: the repo has {len(result.errors)} validation error(s); run "
                            "`lockstep validate` first")
    start = _instant(args.start, "--start") if args.start else None
    findings = check_all(result.workflows, result.stacks, args.horizon_days, start)
    if args.json:
        print(json.dumps([_finding_json(f) for f in findings], indent=2))
    else:
        for f in findings:
            print(f"{f.level.upper():7} {f.message}", file=sys.stderr if f.level == "error" else sys.stdout)
    return 1 if any(f.level == "error" for f in findings) else 0


def _finding_json(f: Any) -> dict[str, object]:
    v = f.verdict
    return {"workflow": f.workflow, "target": f.target, "platform": v.platform, "level": f.level,
            "equivalent": v.equivalent, "assumed": v.assumed, "message": f.message,
            "divergences": [{"kind": d.kind, "canonical": list(d.canonical), "actual": list(d.actual),
                             "detail": d.detail, "assumed": d.assumed} for d in v.divergences]}


def _instant(text: str, flag: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise LockstepError(f"{flag} {text!r} is not an ISO 8601 time such as 2026-03-01T10:00:00Z") from exc
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
