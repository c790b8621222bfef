"""The five stamps every deployed resource carries: workflow, spec digest, schema, git commit, target.

Keys and values are valid as AWS tags, Azure tags and GCP labels (lowercase letters, digits, '-' and '_', at most
63 characters): names are DNS-safe, the digest is 32 hex characters, a commit is 40 hex or 'uncommitted'.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from infra.model import Workflow

KEYS = ("lockstep-workflow", "lockstep-digest", "lockstep-schema", "lockstep-commit", "lockstep-target")
# What a release is (compared by the gate, verification and drift); the commit says only where it came from.
IDENTITY_KEYS = tuple(k for k in KEYS if k != "lockstep-commit")
ENTRY_ENV = "LOCKSTEP_ENTRY"          # the workflow's module.function, read by each platform's shim
CODE_ENV = "LOCKSTEP_CODE_DIGEST"     # the sha256 of the function's source (infra.digest.code_digest)
SECRETS_ENV = "LOCKSTEP_SECRETS"      # JSON: variable -> secret reference, resolved by the shim
_LABEL = re.compile(r"^[a-z0-9_-]{0,63}$")


def stamps(wf: Workflow, target: str, commit: str) -> dict[str, str]:
    """Return the stamps of a workflow's resources on one target."""
    values = (wf.name, wf.digest, str(wf.schema), commit, target)
    return with_commit(dict(zip(KEYS, values, strict=True)), commit)


def as_env(values: dict[str, str]) -> dict[str, str]:
    """Return stamps as environment-variable / app-setting names (LOCKSTEP_WORKFLOW, ...)."""
    return {k.upper().replace("-", "_"): v for k, v in values.items()}


def describe(values: dict[str, str]) -> str:
    """Return stamps as one line, for resources that take only a description."""
    return " ".join(f"{k}={v}" for k, v in values.items())


def identity(wf: Workflow, target: str) -> dict[str, str]:
    """Return the stamps that say what a release is: every stamp but the commit."""
    return {k: v for k, v in stamps(wf, target, "uncommitted").items() if k in IDENTITY_KEYS}


def with_commit(identity_stamps: Mapping[str, str], commit: str) -> dict[str, str]:
    """Return the five stamps, in KEYS order, from the identity stamps and the commit."""
    values = {**identity_stamps, "lockstep-commit": commit}
    out = {k: str(values[k]) for k in KEYS}
    for key, value in out.items():
        if not _LABEL.match(value):
            raise ValueError(f"stamp {key}={value!r} is not a valid GCP label value")
    return out
