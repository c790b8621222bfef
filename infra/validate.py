"""Turn one workflow declaration into a validated, immutable model.Workflow, reporting every problem."""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from infra import fields as f
from infra import redact
from infra.digest import code_digest, spec_digest
from infra.dsl import Declaration
from infra.model import (
    AZURE_PLANS,
    DIVERGENCE_KINDS,
    LOCAL_FIELDS,
    RUNTIMES,
    SCHEMA_VERSIONS,
    TARGETS,
    AcceptedDivergence,
    Function,
    Location,
    Notification,
    Retry,
    Schedule,
    SecretRef,
    TargetSpec,
    Workflow,
    frozen_map,
)
from infra.schedule.canonical import CronSyntaxError, parse_cron, parse_rate

WORKFLOW_FIELDS = ("name", "schema", "description", "owner", "schedule", "function", "retry", "timeout",
                   "allow_overlap", "notify", "targets", "accept")
REQUIRED = ("name", "schema", "description", "owner", "schedule", "function", "targets")
FUNCTION_FIELDS = ("source", "entry", "runtime", "memory_mb", "env", "secrets")
RETRY_FIELDS = ("attempts", "backoff", "delay", "max_delay", "max_event_age")
CANONICAL_NAMES = frozenset(WORKFLOW_FIELDS + FUNCTION_FIELDS + RETRY_FIELDS + ("timezone", "tz")) - {"memory_mb"}
NAME_RE = re.compile(r"^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$")
ENV_RE = re.compile(r"^[A-Z_][A-Z0-9_]*$")
SECRET_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# The fields schedule equivalence reads: a declaration with errors only elsewhere is still checked for it.
SCHEDULE_PARTS = ("schedule", "targets", "accept", "name")
PLACEHOLDER = Function("", "", "", 256)
HOST_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")  # as a stack file's host name


def build_workflow(decl: Declaration, rel_path: str, root: Path, lines: Mapping[str, int],
                   rep: f.Reporter, partial: list[Workflow] | None = None) -> Workflow | None:
    """Validate a declaration; return the Workflow, or None after reporting its problems to `rep`.

    When only other fields are wrong, a schedule-only stand-in (valid schedule, targets and accepted divergences;
    placeholder function) goes to `partial`, so schedule equivalence is judged in the same run. It is never deployed.
    """
    args, before = decl.args, len(rep.errors)
    _no_inline_secrets(rep, "", {k: v for k, v in args.items() if k not in ("function", "notify")})
    function_args = args.get("function")
    if isinstance(function_args, dict):
        _no_inline_secrets(rep, "function.", {k: v for k, v in function_args.items() if k not in ("env", "secrets")})
    f.check_unknown(rep, "", args, WORKFLOW_FIELDS)
    f.check_required(rep, "", args, REQUIRED)
    name = _name(rep, args.get("name"))
    schema = _schema(rep, args.get("schema")) if "schema" in args else None
    description = _text(rep, "description", args.get("description"), "a one-line summary")
    owner = _text(rep, "owner", args.get("owner"), "a team address such as 'data-platform@example.com'")
    schedule = _schedule(rep, args.get("schedule")) if "schedule" in args else None
    function = _function(rep, args.get("function"), Path(decl.path).parent, root) if "function" in args else None
    retry = _retry(rep, args.get("retry", {}))
    timeout = f.duration(rep, "timeout", args.get("timeout", 300), 1, 86400)
    overlap = f.typed(rep, "allow_overlap", args.get("allow_overlap", False), bool, "allow_overlap=False")
    notify = _notify(rep, args.get("notify", []))
    targets = _targets(rep, args.get("targets")) if "targets" in args else None
    accepted = _accepted(rep, args.get("accept", []), targets or ())
    if len(rep.errors) > before:
        if partial is not None and schedule and targets and accepted is not None and not any(
                e.field.startswith(SCHEDULE_PARTS) for e in rep.errors[before:]):
            partial.append(Workflow(name or f"{rel_path}:{decl.line}", 1, "", "", schedule, PLACEHOLDER, Retry(), 300,
                                    False, (), targets, accepted, Location(rel_path, decl.line), frozen_map(lines),
                                    "", ""))
        return None
    assert name and schema and description and owner and schedule and function and retry and targets
    assert timeout is not None and isinstance(overlap, bool) and notify is not None and accepted is not None
    code = code_digest(root / function.source)
    wf = Workflow(name, schema, description, owner, schedule, function, retry, timeout, overlap, notify, targets,
                  accepted, Location(rel_path, decl.line), frozen_map(lines), code, "")
    return _with_digest(wf)


def _no_inline_secrets(rep: f.Reporter, prefix: str, values: Mapping[Any, object]) -> None:
    """Report every text of a secret's shape (token, key, password in a URL, ...) wherever it was written."""
    for key, value in values.items():
        field = f"{prefix}{key}"
        if isinstance(value, Declaration):
            _no_inline_secrets(rep, field + ".", value.args)
        elif isinstance(value, dict):
            _no_inline_secrets(rep, field + ".", value)
        elif isinstance(value, (list, tuple)):
            _no_inline_secrets(rep, field, {f"[{i}]": v for i, v in enumerate(value)})
        elif isinstance(value, str) and (what := redact.shape_of(value)):
            rep.error(field, f.redacted(value), f"holds {what}; secrets are never stored in git",
                      "remove it, store it in each target's secret store and refer to it with secret('name')")


def _with_digest(wf: Workflow) -> Workflow:
    from dataclasses import replace
    return replace(wf, digest=spec_digest(wf))


def _name(rep: f.Reporter, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not NAME_RE.fullmatch(value):
        rep.error("name", value, "is not DNS-safe (lowercase letters, digits and '-', starting with a letter, "
                  "at most 40 characters)", "rename it, e.g. 'nightly-billing'")
        return None
    return value


def _schema(rep: f.Reporter, value: object) -> int | None:
    if value not in SCHEMA_VERSIONS or isinstance(value, bool):
        rep.error("schema", value, "is not a supported schema version",
                  f"use schema={SCHEMA_VERSIONS[-1]} (supported: {', '.join(map(str, SCHEMA_VERSIONS))})")
        return None
    assert isinstance(value, int)
    return value


def _text(rep: f.Reporter, field: str, value: object, example: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        rep.error(field, value, "must be non-empty text", f"write {example}")
        return None
    return value


def _schedule(rep: f.Reporter, value: object) -> Schedule | None:
    if not isinstance(value, Declaration) or value.kind not in ("cron", "rate"):
        rep.error("schedule", value, "is not a schedule", "write schedule=cron('0 2 * * *', tz='UTC') or "
                  "schedule=rate('15 minutes')")
        return None
    args = value.args
    key = "expression" if value.kind == "cron" else "every"
    f.check_unknown(rep, "schedule.", args, (key, "tz", "start", "end"))
    if value.kind == "rate" and "tz" in args:
        # A rate counts absolute time from its start; a zone would change nothing, so it was surely meant otherwise.
        rep.error("schedule.tz", args["tz"], "has no effect on a rate, which fires every N minutes of absolute time",
                  "remove tz, or use cron(..., tz=...) to fire at local wall-clock times")
    expression = args.get(key)
    try:
        if value.kind == "cron":
            parse_cron(expression)  # type: ignore[arg-type]
        else:
            parse_rate(expression)  # type: ignore[arg-type]
    except CronSyntaxError as exc:
        rep.error(f"schedule.{key}", expression, str(exc), "fix the expression (see docs/schedules.md)")
        expression = None
    tz = f.timezone(rep, "schedule.tz", args.get("tz", "UTC"))
    start = f.aware_datetime(rep, "schedule.start", args["start"]) if args.get("start") is not None else None
    end = f.aware_datetime(rep, "schedule.end", args["end"]) if args.get("end") is not None else None
    if start and end and end <= start:
        rep.error("schedule.end", args.get("end"), "is not after start", "move end after start, or drop it")
        return None
    if not isinstance(expression, str) or tz is None:
        return None
    return Schedule(value.kind, " ".join(expression.split()), tz, start, end)  # type: ignore[arg-type]


def _function(rep: f.Reporter, value: object, base: Path, root: Path) -> Function | None:
    if not isinstance(value, dict):
        rep.error("function", value, "must be a dict", "write function={'source': ..., 'entry': 'main.handler', ...}")
        return None
    f.check_unknown(rep, "function.", value, FUNCTION_FIELDS)
    f.check_required(rep, "function.", value, ("source", "entry", "runtime"))
    source = _source(rep, value.get("source"), base, root) if "source" in value else None
    entry = _entry(rep, value.get("entry"), root / source if source else None) if "entry" in value else None
    runtime = f.choice(rep, "function.runtime", value.get("runtime"), RUNTIMES) if "runtime" in value else None
    memory = f.int_in(rep, "function.memory_mb", value.get("memory_mb", 256), 128, 10240)
    env = _env(rep, value.get("env", {}))
    secrets = _secrets(rep, value.get("secrets", {}))
    if None in (source, entry, runtime, memory, env, secrets):
        return None
    return Function(source, entry, runtime, memory, frozen_map(env), frozen_map(secrets))  # type: ignore[arg-type]


def _source(rep: f.Reporter, value: object, base: Path, root: Path) -> str | None:
    if isinstance(value, str) and not (base / value).resolve().is_relative_to(root.resolve()):
        rep.error("function.source", value, "points outside the repository",
                  "keep the function's code under workflows/, e.g. 'functions/<name>'")
        return None
    if not isinstance(value, str) or not (base / value).is_dir():
        rep.error("function.source", value, "is not a directory next to the workflow file",
                  f"create {base.relative_to(root) / str(value)}/ with the function's code, or fix the path")
        return None
    return (base / value).resolve().relative_to(root.resolve()).as_posix()


def _entry(rep: f.Reporter, value: object, source: Path | None) -> str | None:
    if not isinstance(value, str) or not re.match(r"^[A-Za-z_][\w.]*\.[A-Za-z_]\w*$", value):
        rep.error("function.entry", value, "is not 'module.function'", "write it like 'main.handler'")
        return None
    if source is None:
        return None
    module, _, handler = value.rpartition(".")
    file = source / (module.replace(".", "/") + ".py")
    if not file.is_file():
        rep.error("function.entry", value, f"names module {module!r} but {file.name} is not in the source directory",
                  f"add {module.replace('.', '/')}.py, or fix the entry")
        return None
    try:
        tree = ast.parse(file.read_text(encoding="utf-8"))
    except SyntaxError as exc:
        rep.error("function.entry", value, f"{file.name} line {exc.lineno} has a syntax error: {exc.msg}",
                  "fix the function's code")
        return None
    if not any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == handler for n in tree.body):
        rep.error("function.entry", value, f"{file.name} defines no function {handler!r}",
                  f"define def {handler}(event, context) in {file.name}")
        return None
    return value


def _env(rep: f.Reporter, value: object) -> dict[str, str] | None:
    if not isinstance(value, dict):
        rep.error("function.env", value, "must be a dict of names to text", "write env={'REGION_CODE': 'eu'}")
        return None
    ok = True
    for key, item in value.items():
        field = f"function.env.{key}"
        if not isinstance(key, str) or not ENV_RE.fullmatch(key):
            rep.error(field, key, "is not an environment variable name", "use UPPER_SNAKE_CASE")
            ok = False
        elif isinstance(item, SecretRef):
            rep.error(field, f"secret({item.name!r})", "is a secret reference in env",
                      f"move it to function.secrets: {{'{key}': secret('{item.name}')}}")
            ok = False
        elif not isinstance(item, str):
            rep.error(field, item, "must be text", f"write '{item}' in quotes")
            ok = False
        elif f.looks_secret(key, item):
            rep.error(field, f.redacted(item), "looks like an inlined secret value; secrets are never stored in git",
                      f"store it in each target's secret store and write secrets={{'{key}': secret('name')}}")
            ok = False
    return value if ok else None


def _secrets(rep: f.Reporter, value: object) -> dict[str, SecretRef] | None:
    if not isinstance(value, dict):
        rep.error("function.secrets", value, "must be a dict", "write secrets={'DB_PASSWORD': secret('billing-db')}")
        return None
    ok = True
    for key, item in value.items():
        field = f"function.secrets.{key}"
        if not isinstance(key, str) or not ENV_RE.fullmatch(key):
            rep.error(field, key, "is not an environment variable name", "use UPPER_SNAKE_CASE")
            ok = False
        elif not isinstance(item, SecretRef):
            rep.error(field, f.redacted(item), "is an inlined secret value where a reference is required",
                      "remove the value from git, store it in the targets' secret stores, and write "
                      f"'{key}': secret('name')")
            ok = False
        elif not _secret_name_ok(rep, field, item):
            ok = False
    return value if ok else None


def _secret_name_ok(rep: f.Reporter, field: str, ref: SecretRef) -> bool:
    if isinstance(ref.name, str) and SECRET_RE.fullmatch(ref.name):
        return True
    rep.error(field, f"secret({ref.name!r})", "does not name a secret (1-63 lowercase letters, digits and '-', "
              "starting with a letter or digit)", "write secret('billing-db') with the name the secret stores use")
    return False


def _retry(rep: f.Reporter, value: object) -> Retry | None:
    if not isinstance(value, dict):
        rep.error("retry", value, "must be a dict", "write retry={'attempts': 3, 'backoff': 'exponential'}")
        return None
    f.check_unknown(rep, "retry.", value, RETRY_FIELDS)
    attempts = f.int_in(rep, "retry.attempts", value.get("attempts", 1), 1, 10)
    backoff = f.choice(rep, "retry.backoff", value.get("backoff", "exponential"), ("exponential", "fixed"))
    delay = f.duration(rep, "retry.delay", value.get("delay", 60), 1, 3600)
    max_delay = f.duration(rep, "retry.max_delay", value.get("max_delay", 300), 1, 86400)
    age = f.duration(rep, "retry.max_event_age", value.get("max_event_age", 3600), 60, 86400)
    if None in (attempts, backoff, delay, max_delay, age):
        return None
    assert delay is not None and max_delay is not None
    if max_delay < delay:
        rep.error("retry.max_delay", value.get("max_delay"), "is shorter than retry.delay", "raise max_delay")
        return None
    return Retry(attempts, backoff, delay, max_delay, age)  # type: ignore[arg-type]


def _notify(rep: f.Reporter, value: object) -> tuple[Notification, ...] | None:
    if not isinstance(value, (list, tuple)):
        rep.error("notify", value, "must be a list", "write notify=['mailto:oncall@example.com']")
        return None
    out: list[Notification] = []
    for index, item in enumerate(value):
        field = f"notify[{index}]"
        if isinstance(item, SecretRef):
            if _secret_name_ok(rep, field, item):
                out.append(Notification("webhook", secret=item))
        elif isinstance(item, str) and item[:7].lower() == "mailto:" and f.EMAIL_RE.fullmatch(item[7:]):
            out.append(Notification("email", address=item[7:]))
        elif isinstance(item, str) and item[:7].lower() == "mailto:":
            rep.error(field, item, "is not an e-mail address", "write 'mailto:team@example.com' (one address per "
                      "entry, no name or spaces)")
        elif isinstance(item, str) and "://" in item:
            rep.error(field, f.redacted(item), "is a webhook URL; such URLs carry credentials and never go in git",
                      "store the URL as a secret and write secret('name') in notify")
        else:
            shown = item if isinstance(item, str) and item.lower().startswith("mailto:") else f.redacted(item)
            rep.error(field, shown, "is not a notification",
                      "write 'mailto:team@example.com' or secret('webhook-name')")
    return tuple(out) if len(out) == len(value) else None


def _targets(rep: f.Reporter, value: object) -> tuple[TargetSpec, ...] | None:
    if not isinstance(value, dict) or not value:
        rep.error("targets", value, "must name at least one target", "write targets={'aws': {}, 'gcp': {}}")
        return None
    specs: list[TargetSpec] = []
    for name, overrides in value.items():
        field = f"targets.{name}"
        if name not in TARGETS:
            rep.error(field, name, "is not a known target", f"use one of: {', '.join(TARGETS)}")
        elif not isinstance(overrides, dict):
            rep.error(field, overrides, "must be a dict of local overrides", f"write '{name}': {{}} for none")
        elif _overrides_ok(rep, name, overrides):
            specs.append(TargetSpec(name, frozen_map(overrides)))
    if len(specs) != len(value):
        return None
    return tuple(sorted(specs, key=lambda t: TARGETS.index(t.name)))


def _overrides_ok(rep: f.Reporter, target: str, overrides: dict[str, object]) -> bool:
    ok, local = True, LOCAL_FIELDS[target]
    for key, item in overrides.items():
        field = f"targets.{target}.{key}"
        if key in local:
            ok = _local_ok(rep, target, key, field, item) and ok
        elif key in CANONICAL_NAMES:
            rep.error(field, item, f"overrides the canonical field {key!r}, which must be identical on every target",
                      f"change {key} on the workflow itself; {target} may only override: {', '.join(local)}")
            ok = False
        else:
            rep.error(field, item, f"is not a local field of {target}", f"use one of: {', '.join(local)}")
            ok = False
    return ok


def _local_ok(rep: f.Reporter, target: str, key: str, field: str, value: object) -> bool:
    if key == "memory_mb":
        return f.int_in(rep, field, value, 128, 10240) is not None
    if key == "plan":
        return f.choice(rep, field, value, AZURE_PLANS) is not None
    if key == "host":
        return _host_ok(rep, field, value)
    return f.region(rep, field, value, target) is not None  # aws/gcp region, azure location


def _host_ok(rep: f.Reporter, field: str, value: object) -> bool:
    """Check an on-prem host override: one host name for every stack, or a mapping of stack name to host name."""
    if isinstance(value, str) and HOST_RE.fullmatch(value):
        return True
    if isinstance(value, dict) and value and all(isinstance(k, str) and isinstance(v, str) and HOST_RE.fullmatch(v)
                                                 for k, v in value.items()):
        return True
    rep.error(field, value, "is not a host name, nor a mapping of stack names to host names",
              "write 'host': 'batch-01', or 'host': {'prod': 'batch-02', 'staging': 'batch-01'}")
    return False


def _accepted(rep: f.Reporter, value: object, targets: tuple[TargetSpec, ...]) -> tuple[AcceptedDivergence, ...] | None:
    if not isinstance(value, (list, tuple)):
        rep.error("accept", value, "must be a list", "write accept=[divergence(target=..., kind=..., reason=...)]")
        return None
    out: list[AcceptedDivergence] = []
    names = {t.name for t in targets}
    for index, item in enumerate(value):
        field = f"accept[{index}]"
        if not isinstance(item, Declaration) or item.kind != "divergence":
            rep.error(field, item, "is not a divergence", "write divergence(target='gcp', kind='dst-gap', reason=...)")
            continue
        a = item.args
        f.check_unknown(rep, field + ".", a, ("target", "kind", "reason"))
        target, kind, reason = a.get("target"), a.get("kind"), a.get("reason")
        ok = target in names
        if not ok:
            rep.error(f"{field}.target", target, "is not one of this workflow's targets",
                      f"use one of: {', '.join(sorted(names))}")
        ok = f.choice(rep, f"{field}.kind", kind, DIVERGENCE_KINDS) is not None and ok
        if not isinstance(reason, str) or len(reason.strip()) < 10:
            rep.error(f"{field}.reason", reason, "must explain in a sentence why the divergence is acceptable",
                      "write the reason an auditor will read")
            ok = False
        if ok:
            out.append(AcceptedDivergence(str(target), str(kind), str(reason).strip()))
    return tuple(out) if len(out) == len(value) else None
