"""Stack configuration (`Pulumi.<stack>.yaml`): read with line numbers, validate, return a model.StackConfig."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from infra import fields as f
from infra import redact
from infra.errors import SpecError
from infra.model import (
    AZURE_PLANS,
    TARGETS,
    AwsStack,
    AzureStack,
    GcpStack,
    OnpremHost,
    OnpremStack,
    StackConfig,
)

NAMESPACE = "lockstep"
# drift: infra/drift/tolerance.py; switchedOff: the acknowledgement that a declared target is off
TOP_KEYS = tuple(f"{NAMESPACE}:{k}" for k in (*TARGETS, "rollout", "drift", "switchedOff"))
OFF_KEY = f"{NAMESPACE}:switchedOff"  # {target: why}: switching off a target its workflows declare is deliberate
HOST_KEY_RE = re.compile(r"^(ssh-ed25519|ecdsa-sha2-nistp256|ssh-rsa) [A-Za-z0-9+/=]{40,}$")
ENV_NAME_RE = re.compile(r"^[A-Z_][A-Z0-9_]*$")
# Host values reach a remote command line, a crontab or a unit file: allow only characters none of them expand.
HOST_TEXT = {
    "name": (re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$"), "a host name of lowercase letters, digits and '-'"),
    "address": (re.compile(r"^[A-Za-z0-9.:-]{1,253}$"), "a host name or IP address"),
    "user": (re.compile(r"^[a-z_][a-z0-9_-]{0,31}$"), "a POSIX user name"),
    "baseDir": (f.SAFE_PATH_RE,
                "an absolute path of letters, digits, '.', '_', '-' and '/' (no '..')"),
}
HOST_EXAMPLES = {"name": "'batch-01'", "address": "'10.40.0.11' or 'batch-01.example.com'", "user": "'lockstep'",
                 "baseDir": "'/var/lib/lockstep'"}


Duplicate = tuple[str, int, int, Any, Any]  # dotted path, first line, repeated line, first value, repeated value


def read_yaml(path: Path, duplicates: list[Duplicate] | None = None) -> tuple[Any, dict[str, int]]:
    """Read YAML into plain values plus a map of dotted paths ('config.lockstep:aws.region') to lines.

    A key given twice in one mapping is appended to `duplicates`: YAML loaders keep the last silently, so the
    first setting would be ignored without a word.
    """
    node = yaml.compose(path.read_text(encoding="utf-8-sig"), Loader=yaml.SafeLoader)
    lines: dict[str, int] = {}
    dups = duplicates if duplicates is not None else []
    return (_plain(node, "", lines, dups) if node is not None else None), lines


def _plain(node: yaml.Node, path: str, lines: dict[str, int], dups: list[Duplicate]) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key, value in node.value:
            name = str(key.value)
            dotted = f"{path}.{name}" if path else name
            first = (lines[dotted], out[name]) if name in out else None
            out[name] = _plain(value, dotted, lines, dups)
            if first:
                dups.append((dotted, first[0], key.start_mark.line + 1, first[1], out[name]))
            lines[f"{path}.{name}" if path else name] = key.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_plain(v, f"{path}[{i}]", lines, dups) for i, v in enumerate(node.value)]
    return yaml.SafeLoader("").construct_object(node, deep=True)


def load_stack(path: Path, rel: str, name: str,
               warnings: list[SpecError] | None = None) -> tuple[StackConfig | None, list[SpecError]]:
    """Validate one stack file; return its StackConfig (or None) and every error found; warnings go to `warnings`."""
    dups: list[Duplicate] = []
    try:
        data, lines = read_yaml(path, dups)
    except (OSError, UnicodeDecodeError) as exc:
        return None, [SpecError(rel, 1, "(file)", type(exc).__name__, f"cannot be read as UTF-8 text: {exc}",
                                "save the file as UTF-8")]
    except yaml.YAMLError as exc:
        # The context mark is where the unclosed construct began, more useful than the end of the stream.
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        return None, [SpecError(rel, line, "(yaml)", str(getattr(exc, "problem", exc)), "is not valid YAML",
                                "fix the syntax at this line")]
    rep = f.Reporter(rel, {k.removeprefix("config."): v for k, v in lines.items()}, 1)
    stack = _stack(rep, data, rel, name, dups)
    if warnings is not None:
        warnings.extend(rep.warnings)
    return (None, rep.errors) if rep.errors else (stack, [])


def _stack(rep: f.Reporter, data: Any, rel: str, name: str, dups: list[Duplicate]) -> StackConfig | None:
    for dotted, first, again, was, value in dups:
        rep.errors.append(SpecError(rel, again, dotted.removeprefix("config."), value,
                                    f"is given a second time (line {first} says {was!r}); YAML would silently keep "
                                    "only this one", "delete the setting you do not mean"))
    config = data.get("config") if isinstance(data, dict) else None
    if not isinstance(config, dict):
        rep.error("config", config, "is missing", "add a top-level 'config:' mapping with lockstep:<target> keys")
        return None
    f.check_unknown(rep, "", {k: v for k, v in config.items() if k.startswith(f"{NAMESPACE}:")}, TOP_KEYS)
    _no_inline_secrets(rep, "", config)
    sections = {t: _section(rep, config, t) for t in TARGETS}
    aws = _aws(rep, sections["aws"])
    azure = _azure(rep, sections["azure"])
    gcp = _gcp(rep, sections["gcp"])
    onprem = _onprem(rep, sections["onprem"])
    # A present but invalid section is still enabled: its own errors say what is wrong, the waves check must not.
    present = tuple(t for t in TARGETS if sections[t] is not None)
    waves = _waves(rep, config.get(f"{NAMESPACE}:rollout"), present)
    off = _switched_off(rep, config.get(OFF_KEY), present)
    off_lines = tuple((t, rep.lines.get(f"{NAMESPACE}:{t}.enabled") or rep.lines.get("config", 1),
                       "enabled: false" if f"{NAMESPACE}:{t}" in config else "(no section)")
                      for t in TARGETS if t not in present)
    return StackConfig(name, rel, aws, azure, gcp, onprem, waves, off, off_lines)


def _switched_off(rep: f.Reporter, value: object, present: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """Read `lockstep:switchedOff: {target: why}`, the acknowledgement that a deploy deletes that target's resources."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        rep.error(OFF_KEY, value, "must map targets to the reason they are off",
                  'write lockstep:switchedOff: {gcp: "GCP is retired from staging"}')
        return ()
    for target, why in value.items():
        field = f"{OFF_KEY}.{target}"
        if target not in TARGETS:
            rep.error(field, target, "is not a known target", f"use one of: {', '.join(TARGETS)}")
        elif target in present:
            rep.error(field, why, f"acknowledges switching off {target}, but this stack enables it",
                      f"remove {target} from {OFF_KEY}, or set lockstep:{target}.enabled: false")
        elif not (isinstance(why, str) and why.strip()):
            rep.error(field, why, "must say why the target is off", f'write {target}: "<why its resources go>"')
    return tuple((str(t), str(w)) for t, w in value.items() if t in TARGETS and t not in present)


def switched_off_errors(declared: dict[str, list[str]], stack: StackConfig) -> list[SpecError]:
    """Return an error for each target that workflows declare but the stack switches off without saying why."""
    acknowledged = {t for t, _ in stack.switched_off}
    where = {t: (line, value) for t, line, value in stack.off_lines}
    return [SpecError(stack.path, where.get(t, (1, ""))[0], f"{NAMESPACE}:{t}", where.get(t, (1, "off"))[1],
                      f"switches off {t}, which workflows declare ({', '.join(names)}): a deploy deletes their {t} "
                      "resources", f'acknowledge it with {OFF_KEY}: {{{t}: "<why>"}} in this file, or enable {t}')
            for t, names in declared.items() if names and t not in stack.enabled() and t not in acknowledged]


def _no_inline_secrets(rep: f.Reporter, prefix: str, value: object) -> None:
    """Report every text of a secret's shape anywhere in the stack file (a stack file is in git, unencrypted)."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        field = f"{prefix}[{key}]" if isinstance(key, int) else f"{prefix}.{key}" if prefix else str(key)
        if isinstance(item, (dict, list)):
            _no_inline_secrets(rep, field, item)
        elif isinstance(item, str) and (what := redact.shape_of(item)):
            rep.error(field, f.redacted(item), f"holds {what}; a stack file is in git, so secrets never go in it",
                      "remove it; give the value to each target's secret store (on-prem: a file the host's "
                      "secrets directory holds), or use `pulumi config set --secret` for Pulumi's own settings")


def _section(rep: f.Reporter, config: Mapping[str, Any], target: str) -> dict[str, Any] | None:
    key = f"{NAMESPACE}:{target}"
    value = config.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        rep.error(key, value, "must be a mapping", f"write {key}: followed by indented settings")
        return None
    enabled = value.get("enabled", True)
    if not isinstance(enabled, bool):
        # A quoted "false" is a true-ish string: guessing either way could deploy what the author switched off.
        rep.error(f"{key}.enabled", enabled, "must be true or false, unquoted", "write enabled: false (or true), "
                  "without quotes")
        return None
    if enabled is False:
        return None
    return value


def _aws(rep: f.Reporter, s: dict[str, Any] | None) -> AwsStack | None:
    if s is None:
        return None
    p = f"{NAMESPACE}:aws."
    f.check_unknown(rep, p, s, ("enabled", "region"))
    f.check_required(rep, p, s, ("region",), yaml=True)
    region = f.region(rep, p + "region", s.get("region"), "aws") if "region" in s else None
    return AwsStack(region) if region else None


def _azure(rep: f.Reporter, s: dict[str, Any] | None) -> AzureStack | None:
    if s is None:
        return None
    p = f"{NAMESPACE}:azure."
    f.check_unknown(rep, p, s, ("enabled", "location", "plan", "os", "resourceGroup", "keyVault"))
    f.check_required(rep, p, s, ("location", "plan", "os"), yaml=True)
    location = f.region(rep, p + "location", s.get("location"), "azure") if "location" in s else None
    plan = f.choice(rep, p + "plan", s.get("plan"), AZURE_PLANS) if "plan" in s else None
    os_ = f.choice(rep, p + "os", s.get("os"), ("linux", "windows")) if "os" in s else None
    group = f.typed(rep, p + "resourceGroup", s["resourceGroup"], str, "rg-lockstep") if "resourceGroup" in s else None
    vault = f.typed(rep, p + "keyVault", s["keyVault"], str, "kv-lockstep") if "keyVault" in s else None
    if plan == "flex-consumption" and os_ == "windows":
        rep.error(p + "os", os_, "Flex Consumption runs on Linux only", "use os: linux, or another plan")
        return None
    if not (location and plan and os_):
        return None
    return AzureStack(str(location), plan, os_, group if isinstance(group, str) else None,  # type: ignore[arg-type]
                      vault if isinstance(vault, str) else None)


def _gcp(rep: f.Reporter, s: dict[str, Any] | None) -> GcpStack | None:
    if s is None:
        return None
    p = f"{NAMESPACE}:gcp."
    f.check_unknown(rep, p, s, ("enabled", "project", "region"))
    f.check_required(rep, p, s, ("project", "region"), yaml=True)
    project, ok = s.get("project"), True
    if "project" in s and not (isinstance(project, str) and re.match(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$", project)):
        rep.error(p + "project", project, "is not a GCP project ID", "write 6-30 lowercase letters, digits or '-'")
        ok = False
    region = f.region(rep, p + "region", s.get("region"), "gcp") if "region" in s else None
    if not ok or not isinstance(project, str) or not isinstance(region, str):
        return None
    return GcpStack(project, region)


def _onprem(rep: f.Reporter, s: dict[str, Any] | None) -> OnpremStack | None:
    if s is None:
        return None
    p = f"{NAMESPACE}:onprem."
    f.check_unknown(rep, p, s, ("enabled", "hosts", "privateKeyEnv"))
    f.check_required(rep, p, s, ("hosts",), yaml=True)
    key_env = s.get("privateKeyEnv", "LOCKSTEP_ONPREM_KEY")
    if not isinstance(key_env, str) or not ENV_NAME_RE.fullmatch(key_env):
        rep.error(p + "privateKeyEnv", key_env, "must name an environment variable (the key itself never goes "
                  "in config)", "write e.g. LOCKSTEP_ONPREM_KEY")
    hosts_raw = s.get("hosts")
    if "hosts" in s and (not isinstance(hosts_raw, list) or not hosts_raw):
        rep.error(p + "hosts", hosts_raw, "must be a non-empty list", "list each host with name, address, ...")
        return None
    hosts = [_host(rep, f"{p}hosts[{i}]", h) for i, h in enumerate(hosts_raw or [])]
    names = [h.name for h in hosts if h]
    for i, h in enumerate(hosts):
        if h and names.count(h.name) > 1 and names.index(h.name) != i:
            rep.error(f"{p}hosts[{i}].name", h.name, "is used by two hosts", "give every host its own name")
    if None in hosts or not isinstance(key_env, str):
        return None
    return OnpremStack(tuple(h for h in hosts if h), key_env)


def _host(rep: f.Reporter, p: str, h: object) -> OnpremHost | None:
    if not isinstance(h, dict):
        rep.error(p, h, "must be a mapping", "write name:, address:, user:, hostKey:, scheduler:, timezone:")
        return None
    before = len(rep.errors)
    f.check_unknown(rep, p + ".", h, ("name", "address", "port", "user", "hostKey", "scheduler", "timezone", "baseDir"))
    f.check_required(rep, p + ".", h, ("name", "address", "user", "hostKey", "scheduler", "timezone"), yaml=True)
    port = f.int_in(rep, p + ".port", h.get("port", 22), 1, 65535)
    key = h.get("hostKey")
    if "hostKey" in h and not (isinstance(key, str) and HOST_KEY_RE.match(key.strip())):
        rep.error(p + ".hostKey", key, "is not a pinned public host key",
                  "paste the host's key line, e.g. from `ssh-keyscan -t ed25519 HOST` checked out of band")
    elif "hostKey" in h and (problem := f.host_key_problem(str(key))):
        rep.error(p + ".hostKey", key, problem, "paste the host's key line exactly as `ssh-keyscan -t ed25519 HOST` "
                  "prints it (checked out of band)")
    _address(rep, p, h.get("address"))
    sched = f.choice(rep, p + ".scheduler", h.get("scheduler"), ("cron", "systemd")) if "scheduler" in h else None
    tz = f.timezone(rep, p + ".timezone", h.get("timezone")) if "timezone" in h else None
    for name, (pattern, what) in HOST_TEXT.items():  # not `key`: that is the host key read above
        value = h.get(name)
        if name in h and not (isinstance(value, str) and pattern.fullmatch(value) and ".." not in value.split("/")):
            rep.error(f"{p}.{name}", value, f"is not {what}", f"write {HOST_EXAMPLES[name]}")
    if len(rep.errors) > before:
        return None
    return OnpremHost(h["name"], h["address"], port or 22, h["user"], str(key).strip(), sched, tz,  # type: ignore[arg-type]
                      h.get("baseDir", "/var/lib/lockstep"))


def _address(rep: f.Reporter, p: str, value: object) -> None:
    if isinstance(value, str) and HOST_TEXT["address"][0].fullmatch(value) and (problem := f.address_problem(value)):
        rep.error(p + ".address", value, problem, f"write {HOST_EXAMPLES['address']} and set port: separately")


def _waves(rep: f.Reporter, rollout: object, enabled: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    p = f"{NAMESPACE}:rollout"
    if rollout is None:
        return (enabled,) if enabled else ()
    if not isinstance(rollout, dict) or not isinstance(rollout.get("waves"), list):
        rep.error(p, rollout, "must hold a 'waves' list", "write waves: [[onprem], [aws], [gcp, azure]]")
        return ()
    f.check_unknown(rep, p + ".", rollout, ("waves",))
    seen: list[str] = []
    for i, wave in enumerate(rollout["waves"]):
        if not isinstance(wave, list) or not wave:
            rep.error(f"{p}.waves[{i}]", wave, "must be a non-empty list of targets", "write [aws] or [gcp, azure]")
            continue
        for j, target in enumerate(wave):
            field = f"{p}.waves[{i}][{j}]"
            if target not in TARGETS:
                rep.error(field, target, "is not a known target", f"use one of: {', '.join(TARGETS)}")
            elif target not in enabled:
                rep.error(field, target, "names a target that is disabled in this stack",
                          f"enable lockstep:{target}, or remove it from the waves")
            elif target in seen:
                rep.error(field, target, "appears in two waves", "deploy each target in exactly one wave")
            seen.append(str(target))
    for target in enabled:
        if target not in seen:
            rep.error(f"{p}.waves", rollout["waves"], f"does not deploy the enabled target {target!r}",
                      f"add {target} to a wave")
    return tuple(tuple(w) for w in rollout["waves"] if isinstance(w, list))
