"""Fidelity rules that several targets share, each parameterised by what differs on that target. SDK-free."""

from __future__ import annotations

from collections.abc import Sequence

from infra.model import Workflow
from infra.schedule.dst import touches_dst
from infra.schedule.translate import Native, Refusal
from infra.targets.base import EXACT, Fidelity, approximate, impossible


def schedule_fidelity(native: Native | Refusal) -> Fidelity:
    """Return the schedule's landing: impossible when the platform refuses it, else exact (with any notes)."""
    if isinstance(native, Refusal):
        return impossible("schedule", native.reason, native.fix)
    return Fidelity("exact", "; ".join(native.notes))


def zone_fidelity(wf: Workflow, native: Native | Refusal, dst_difference: str) -> Fidelity:
    """Return the time zone's landing: approximate where the platform's DST rule differs and the schedule meets it."""
    if isinstance(native, Refusal):
        return impossible("schedule", native.reason, native.fix)
    if not dst_difference or not touches_dst(wf.schedule):
        return EXACT
    return approximate(dst_difference)


def env_fidelity(wf: Workflow, target: str, reserved: Sequence[str]) -> Fidelity:
    """Return the environment's landing: impossible when a variable collides with a name the platform reserves."""
    names = (*wf.function.env, *wf.function.secrets)
    clash = [k for k in names if k.upper().startswith(tuple(reserved))]
    if clash:
        return impossible("reserved-name", f"{', '.join(clash)} collide with names {target} reserves",
                          "rename the variables")
    return EXACT


def no_retries(wf: Workflow) -> bool:
    """Tell whether the workflow runs once, with no retry (backoff and event age then do not apply)."""
    return wf.retry.attempts <= 1


def webhook_fidelity(wf: Workflow, sink: str) -> Fidelity:
    """Return the notifications' landing on a cloud: a webhook URL is a secret, so no webhook receiver is created."""
    if any(n.kind == "webhook" for n in wf.notify):
        return approximate(f"webhook notifications are not delivered: a webhook URL is a secret and never enters IaC "
                           f"state, so failures reach {sink} and the webhook endpoint must be subscribed to it from "
                           "the secret store (see docs/components.md)")
    return EXACT


def emails(wf: Workflow) -> tuple[str, ...]:
    """Return the workflow's e-mail recipients, in declaration order."""
    return tuple(n.address for n in wf.notify if n.kind == "email")


def webhook_secrets(wf: Workflow) -> tuple[str, ...]:
    """Return the secret names of the workflow's webhook notifications, in declaration order."""
    return tuple(n.secret.name for n in wf.notify if n.kind == "webhook" and n.secret is not None)


def iso_utc(value: object) -> str | None:
    """Return a datetime as an ISO instant in UTC with a Z suffix (how schedules' start/end are registered)."""
    import datetime as dt

    if value is None:
        return None
    assert isinstance(value, dt.datetime)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

