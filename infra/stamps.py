"""The five stamps every deployed resource carries: workflow, spec digest, schema, git commit, target.

Keys and values are valid as AWS tags, Azure tags and GCP labels (lowercase letters, digits, '-' and '_', at most
63 characters): names are DNS-safe, the digest is 32 hex characters, a commit is 40 hex or 'uncommitted'.
"""

from __future__ import annotations

import re

from infra.model import Workflow

KEYS = ("lockstep-workflow", "lockstep-digest", "lockstep-schema", "lockstep-commit", "lockstep-target")
_LABEL = re.compile(r"^[a-z0-9_-]{0,63}$")


def stamps(wf: Workflow, target: str, commit: str) -> dict[str, str]:
    """Return the stamps of a workflow's resources on one target."""
    values = (wf.name, wf.digest, str(wf.schema), commit, target)
    out = dict(zip(KEYS, values, strict=True))
    for key, value in out.items():
        if not _LABEL.match(value):
            raise ValueError(f"stamp {key}={value!r} is not a valid GCP label value")
    return out


def as_env(values: dict[str, str]) -> dict[str, str]:
    """Return stamps as environment-variable / app-setting names (LOCKSTEP_WORKFLOW, ...)."""
    return {k.upper().replace("-", "_"): v for k, v in values.items()}


def describe(values: dict[str, str]) -> str:
    """Return stamps as one line, for resources that take only a description."""
    return " ".join(f"{k}={v}" for k, v in values.items())
