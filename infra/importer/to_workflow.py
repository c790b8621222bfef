"""Turn a discovered schedule into the source of a readable workflow file (`workflow(...)` in the users' DSL)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from infra.errors import LockstepError
from infra.importer.discover import Item
from infra.model import RUNTIMES, StackConfig
from infra.targets.azure.normalize import plan_of
from infra.targets.base import NormalizeError

ONPREM_ENTRY, ONPREM_RUNTIME = "main.handler", "python3.11"  # what an adopted crontab line's function declares
GCP_RUNTIME = re.compile(r"^python3(\d+)$")
AZURE_RUNTIME = re.compile(r"^python\|3\.(\d+)$", re.IGNORECASE)  # linuxFxVersion "Python|3.11"


@dataclass(frozen=True)
class Draft:
    """What adopting one item writes: the workflow's name, its file and its function directory."""

    name: str
    file: str    # repo-relative: workflows/<name>.py
    source: str  # workflow-relative: functions/<name>
    text: str


def workflow_name(item: Item) -> str:
    """Return a workflow name derived from the schedule's own name (lowercase letters, digits, '-')."""
    tail = item.found.name.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    if item.found.target == "onprem":
        tail = item.found.calls.split()[0].rsplit("/", 1)[-1].rsplit(".", 1)[0] if item.found.calls else tail
    name = re.sub(r"[^a-z0-9]+", "-", tail.lower()).strip("-")
    name = name if name[:1].isalpha() else f"wf-{name}"
    return name[:40].rstrip("-")


def draft(item: Item, stack: StackConfig, name: str, owner: str) -> Draft:
    """Return the workflow file that declares the item (raise LockstepError when it cannot be declared)."""
    if item.reason or item.schedule is None:
        raise LockstepError(f"import adopt: {item.key} is not a workflow Lockstep can declare: {item.reason}")
    f, s = item.found, item.schedule
    entry, runtime = f.entry, _runtime(f.runtime)
    calls = f"which calls {f.calls}"
    if f.target == "onprem":  # a crontab line runs a command: its function is the user's, its text stays off git
        host = stack.onprem.host(f.place) if stack.onprem else None
        if host is None or host.scheduler != "cron":
            raise LockstepError(f"import adopt: {item.key}: host {f.place!r} "
                                f"{'deploys with systemd' if host else f'is not in stack {stack.name!r}'}; an adopted "
                                "crontab line is swapped for Lockstep's crontab block, so the host needs scheduler: "
                                "cron")
        entry, runtime, calls = ONPREM_ENTRY, ONPREM_RUNTIME, f"a crontab line on {f.place}"
    if not entry or runtime is None:
        raise LockstepError(f"import adopt: {item.key} reports no Python entry point and runtime "
                            f"({entry or 'no entry'}, {f.runtime or 'no runtime'}); declare it by hand")
    slug = name.replace("-", "_")
    schedule = (f"cron({s.expression!r}, tz={s.timezone!r})" if s.kind == "cron" else
                f"rate({s.expression!r})")
    function = {"source": f"functions/{slug}", "entry": entry, "runtime": runtime,
                **({"memory_mb": f.memory_mb} if f.memory_mb else {}), **({"env": dict(f.env)} if f.env else {})}
    lines = [
        f'"""{name}: adopted from {f.target} ({item.key}) by `lockstep import adopt`."""', "",
        f"from infra.dsl import {'cron' if s.kind == 'cron' else 'rate'}, workflow", "", "workflow(",
        f"    name={name!r},", "    schema=1,",
        f"    description={f'Adopted from {item.key}, {calls}.'!r},",
        f"    owner={owner!r},", f"    schedule={schedule},", "    function={",
        *(f"        {k!r}: {v!r}," for k, v in function.items()), "    },",
        *([f"    timeout={_duration(f.timeout_s)!r},"] if f.timeout_s else []),
        f"    targets={{{f.target!r}: {_local(item, stack)!r}}},", ")", ""]
    return Draft(name, f"workflows/{slug}.py", f"functions/{slug}", "\n".join(lines))


def _runtime(platform: str) -> str | None:
    """Return the canonical runtime of a platform's name for it (python311 on GCP, Python|3.11 on Azure)."""
    m = GCP_RUNTIME.match(platform) or AZURE_RUNTIME.match(platform)
    found = f"python3.{m.group(1)}" if m else platform
    return found if found in RUNTIMES else None


def _duration(seconds: int) -> str:
    return f"{seconds // 60}m" if seconds % 60 == 0 else f"{seconds}s"


def _local(item: Item, stack: StackConfig) -> dict[str, str]:
    """Return the target's local overrides: its region or location where it is not the stack's."""
    f = item.found
    if f.target == "aws" and stack.aws and f.place != stack.aws.region:
        return {"region": f.place}
    if f.target == "gcp" and stack.gcp and f.place.split("/", 1)[-1] != stack.gcp.region:
        return {"region": f.place.split("/", 1)[-1]}
    if f.target == "onprem" and stack.onprem and len(stack.onprem.hosts) > 1:
        return {"host": f.place}
    if f.target == "azure" and stack.azure:
        plan = _azure_plan(item)  # the app stays on the kind of plan it runs on (Azure moves no app across kinds)
        return {**({"location": f.place} if f.place != stack.azure.location else {}),
                **({"plan": plan} if plan and plan != stack.azure.plan else {})}
    return {}


def _azure_plan(item: Item) -> str | None:
    """Return the Lockstep plan of the live App Service plan's SKU (None when unknown or none Lockstep deploys)."""
    sku = item.found.observed.get("plan", {}).get("sku.name")
    try:
        return plan_of(str(sku)) if sku else None
    except NormalizeError:
        return None
