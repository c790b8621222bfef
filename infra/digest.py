"""Content digests: of a function's code, and of a workflow's canonical fields (the spec digest).

Both are independent of file order, mtimes, the machine and Python's hash seed: they hash sorted relative paths
and file bytes, and canonical JSON with sorted keys.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from infra.model import Workflow

IGNORED_DIRS = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache"})
IGNORED_SUFFIXES = (".pyc", ".pyo")
SPEC_DIGEST_CHARS = 32  # 128 bits: fits a GCP label value (63 characters at most)


def code_files(source: Path) -> list[Path]:
    """Return the files of a function's source directory, sorted by relative path, caches excluded."""
    files = [p for p in source.rglob("*") if p.is_file() and not IGNORED_DIRS.intersection(p.relative_to(source).parts)
             and not p.name.endswith(IGNORED_SUFFIXES)]
    return sorted(files, key=lambda p: p.relative_to(source).as_posix())


def code_digest(source: Path) -> str:
    """Return the sha256 (hex) of a directory's files: their relative paths and their bytes."""
    outer = hashlib.sha256()
    for path in code_files(source):
        inner = hashlib.sha256(path.read_bytes()).hexdigest()
        outer.update(f"{path.relative_to(source).as_posix()}\0{inner}\n".encode())
    return outer.hexdigest()


def canonical_fields(wf: Workflow) -> dict[str, object]:
    """Return the canonical fields of a workflow as plain JSON data (no local fields, no secret values)."""
    s, fn, r = wf.schedule, wf.function, wf.retry
    return {
        "name": wf.name, "schema": wf.schema, "description": wf.description, "owner": wf.owner,
        "schedule": {"kind": s.kind, "expression": s.expression, "timezone": s.timezone,
                     "start": s.start.isoformat() if s.start else None, "end": s.end.isoformat() if s.end else None},
        "function": {"entry": fn.entry, "runtime": fn.runtime, "env": dict(sorted(fn.env.items())),
                     "secrets": {k: v.name for k, v in sorted(fn.secrets.items())}, "code": wf.code_digest},
        "retry": {"attempts": r.attempts, "backoff": r.backoff, "delay_s": r.delay_s, "max_delay_s": r.max_delay_s,
                  "max_event_age_s": r.max_event_age_s},
        "timeout_s": wf.timeout_s, "allow_overlap": wf.allow_overlap,
        "notify": [n.describe() for n in wf.notify],
    }


def spec_digest(wf: Workflow) -> str:
    """Return the spec digest: sha256 of the canonical fields' canonical JSON, truncated to 128 bits."""
    return digest_of(canonical_fields(wf))


def digest_of(fields: object) -> str:
    """Return the spec digest of canonical fields given as plain JSON data (as a deployed spec carries them)."""
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()[:SPEC_DIGEST_CHARS]
