"""`lockstep schedule translate | fires | check`: native forms, platform fire times, equivalence."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from infra.errors import SpecInvalid, UsageError
from infra.horizon import DEFAULT_DAYS, MAX_DAYS, anchored
from infra.model import AZURE_PLANS, Schedule
from infra.schedule.canonical import CronSyntaxError, parse_cron
from infra.schedule.cronfields import NativeSyntaxError
from infra.schedule.platforms import PLATFORMS, fires
from infra.schedule.translate import PLATFORMS as TARGET_PLATFORMS
from infra.schedule.translate import Native, translate
from infra.schedule.tzmap import UnknownZone, zone_map


def register(subparsers: Any) -> None:
    """Add `schedule translate|fires|check` to the lockstep CLI."""
    from infra.cli import add_format, add_root

    top = subparsers.add_parser("schedule", help="translate schedules, list platform fire times, check equivalence",
                                description="Schedules on their own: native forms, platform fire times, equivalence.")
    sub = top.add_subparsers(dest="schedule_command", metavar="SUBCOMMAND", required=True)
    tr = sub.add_parser("translate", help="native form of a canonical cron schedule on every platform")
    tr.add_argument("--cron", required=True, metavar="EXPR", help="canonical 5-field cron expression, e.g. '0 2 * * *'")
    tr.add_argument("--tz", default="UTC", metavar="ZONE", help="IANA time zone of the schedule (default: UTC)")
    tr.add_argument("--azure-plan", default="premium", choices=AZURE_PLANS,
                    help="Azure hosting plan to translate for (default: premium)")
    tr.add_argument("--azure-os", default="linux", choices=("linux", "windows"),
                    help="Azure function app OS (default: linux)")
    tr.add_argument("--host-tz", default="UTC", metavar="ZONE", help="time zone of the on-prem host (default: UTC)")
    add_format(tr)
    tr.set_defaults(func=cmd_translate)
    fi = sub.add_parser("fires", help="next fire instants of a native expression, as the platform fires it")
    fi.add_argument("--platform", required=True, choices=PLATFORMS, help="whose rules evaluate the expression")
    fi.add_argument("--expression", required=True, metavar="EXPR", help="the platform's native expression")
    fi.add_argument("--tz", default="UTC", metavar="ZONE", help="time zone the platform evaluates in (default: UTC)")
    fi.add_argument("--start", default=None, metavar="ISO", help="anchor of rate/interval schedules (ISO 8601)")
    fi.add_argument("--after", required=True, metavar="ISO", help="ISO 8601 instant; fires strictly after it are "
                    "listed")
    fi.add_argument("--count", type=int, default=10, metavar="N", help="how many instants to list (default: 10)")
    add_format(fi)
    fi.set_defaults(func=cmd_fires)
    ch = sub.add_parser("check", help="equivalence of every workflow on every target of every stack")
    add_root(ch)
    ch.add_argument("--horizon-days", type=int, default=DEFAULT_DAYS, metavar="DAYS",
                    help=f"how many days to compare (1-{MAX_DAYS}; default: {DEFAULT_DAYS})")
    ch.add_argument("--start", default=None, metavar="ISO", help="horizon start (ISO 8601; default: the date of the "
                    "last commit, or now when the workflows have uncommitted changes)")
    add_format(ch)
    ch.set_defaults(func=cmd_check)


def cmd_translate(args: argparse.Namespace) -> int:
    """Print each platform's native form of --cron in --tz, or why it is refused."""
    try:
        parse_cron(args.cron)
        zone_map(args.tz)
    except (CronSyntaxError, UnknownZone) as exc:
        raise UsageError(f"schedule translate: --cron {args.cron!r} --tz {args.tz!r}: {exc}") from exc
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
    if args.format == "json":
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
        raise UsageError(f"schedule fires: --count {args.count}: must be at least 1")
    try:
        zone_map(args.tz)
        got = fires(args.platform, args.expression, after=after, count=args.count, tz=args.tz, start=start)
    except UnknownZone as exc:
        raise UsageError(f"schedule fires: --tz {args.tz!r}: {exc}") from exc
    except NativeSyntaxError as exc:
        raise UsageError(f"schedule fires: {args.platform} would reject {args.expression!r}: {exc}") from exc
    stamps = [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in got]
    if args.format == "json":
        print(json.dumps({"platform": args.platform, "fires": stamps}))
    else:
        print("\n".join(stamps))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Check every workflow on every target of every stack; exit 1 if any divergence is not accepted."""
    from infra.loader import load_repo
    from infra.schedule.workflow_check import check_all

    if not 1 <= args.horizon_days <= MAX_DAYS:
        raise UsageError(f"schedule check: --horizon-days {args.horizon_days}: must be between 1 and {MAX_DAYS}")
    start = _instant(args.start, "--start") if args.start else None
    result = load_repo(args.root)
    if result.errors:
        raise SpecInvalid(result.errors)
    horizon = anchored(result.root, args.horizon_days, start)
    findings = _grouped(check_all(result.workflows, result.stacks, horizon.days, horizon.start, result.blocked))
    failed = any(f.level == "error" for f, _ in findings)
    if args.format == "json":
        print(json.dumps({"ok": not failed, "horizon": horizon.as_dict(),
                          "findings": [_finding_json(f, stacks) for f, stacks in findings]}, indent=2))
        return 1 if failed else 0
    print(f"horizon: {horizon.describe()}")
    for f, stacks in findings:
        where = f"[{', '.join(stacks)}] " if stacks else ""
        print(f"{f.level.upper():7} {where}{f.message}", file=sys.stderr if f.level == "error" else sys.stdout)
    return 1 if failed else 0


def _grouped(findings: tuple[Any, ...]) -> list[tuple[Any, list[str]]]:
    """Merge the same finding on several stacks into one line naming them all."""
    out: dict[tuple[str, str, str, str], tuple[Any, list[str]]] = {}
    for f in findings:
        key = (f.workflow, f.target, f.level, f.message)
        stacks = out.setdefault(key, (f, []))[1]
        if f.stack and f.stack not in stacks:  # on-prem checks once per host: one stack, several verdicts
            stacks.append(f.stack)
    return list(out.values())


def _finding_json(f: Any, stacks: list[str]) -> dict[str, object]:
    v = f.verdict
    return {"workflow": f.workflow, "target": f.target, "stacks": stacks, "platform": v.platform, "level": f.level,
            "equivalent": v.equivalent, "assumed": v.assumed, "message": f.message,
            "divergences": [{"kind": d.kind, "canonical": list(d.canonical), "actual": list(d.actual),
                             "detail": d.detail, "assumed": d.assumed} for d in v.divergences]}


def _instant(text: str, flag: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise UsageError(f"{flag} {text!r} is not an ISO 8601 time such as 2026-03-01T10:00:00Z") from exc
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
