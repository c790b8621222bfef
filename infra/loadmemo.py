"""What each workflow file loads to, remembered by its bytes and by everything else its result was read from.

Loading a workflow file means executing it (in the loader's child process), parsing it for field lines and
validating what it declared; for 1,000 files that is most of a warm preview. The result of one file depends only on
its own bytes, on the helper modules it imported from workflows/ (reported by the child), on the function
directories it names (their code digest, absence included) and on the loader's own code. So an entry is keyed by
the file's path and bytes, records the digests of those helpers and directories, is used only while every one of
them still matches, and lives under a key that includes the hash of the loader's code (`loader_hash`): same inputs,
same result. A file whose declarations read anything else (other files, the environment, the clock) is outside
that contract; `LOCKSTEP_NO_CACHE=1` turns the memo off with the preview cache.

Entries are JSON data (no pickle) kept in a `Store` (the preview cache: verified with a sha256 and an HMAC). A value
is remembered only if its encoding rebuilds it exactly; anything else is loaded again every time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import importlib.metadata
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol

from infra import errors, isolated, model
from infra.digest import code_digest

FORMAT = "lockstep-load-memo/1"
CODE = Path(__file__).resolve().parent
_CLASSES: dict[str, type] = {c.__name__: c for c in (
    model.Workflow, model.Schedule, model.Function, model.Retry, model.Notification, model.SecretRef,
    model.AcceptedDivergence, model.TargetSpec, model.Location, errors.SpecError, isolated.Opaque)}
_SCALARS = frozenset((type(None), bool, int, float, str))
_FIELDS = {c: tuple(f.name for f in dataclasses.fields(c)) for c in _CLASSES.values()}


class Store(Protocol):
    """Where entries persist between processes: JSON data under a key, or None."""

    def get_data(self, k: str) -> Any | None:
        """Return the data stored under a key (verified), or None."""

    def put_data(self, k: str, data: Any) -> None:
        """Store JSON data under a key."""


class FileResult(NamedTuple):
    """What one workflow file loaded to."""

    workflows: tuple[model.Workflow, ...]
    errors: tuple[errors.SpecError, ...]
    warnings: tuple[errors.SpecError, ...]
    partial: tuple[model.Workflow, ...]


class Unmemoizable(Exception):
    """A value the memo cannot rebuild exactly: the file is loaded again every time."""


def loader_hash() -> str:
    """Return the sha256 of the loader's code (every .py under infra/), its tz data and the interpreter version."""
    outer = hashlib.sha256(f"{FORMAT}\0{sys.version}\n".encode())
    for path in sorted(CODE.rglob("*.py")):
        if "__pycache__" not in path.parts:
            outer.update(f"{path.relative_to(CODE).as_posix()}\0{hashlib.sha256(path.read_bytes()).hexdigest()}\n"
                         .encode())
    for name in ("tzdata",):
        try:
            outer.update(f"{name}=={importlib.metadata.version(name)}\n".encode())
        except importlib.metadata.PackageNotFoundError:
            outer.update(f"{name}==absent\n".encode())
    return outer.hexdigest()


class Entries:
    """One memo's entries in a Store: read once per process, written back holding only what this process used."""

    def __init__(self, store: Store | None, name: str) -> None:
        self.store = store
        self.name = name
        self.entries: dict[str, Any] | None = None
        self.new = False
        self.used: set[str] = set()  # what this process read or wrote: all that is written back
        self.hits = 0
        self.misses = 0

    def read(self) -> None:
        """Read the stored entries, once."""
        if self.entries is None:
            stored = self.store.get_data(self.name) if self.store is not None else None
            self.entries = dict(stored) if isinstance(stored, dict) else {}

    def hit(self, k: str) -> None:
        """Count a remembered entry as used."""
        self.hits += 1
        self.used.add(k)

    def keep(self, k: str, entry: Any) -> None:
        """Remember a new entry; it is written back by `write`."""
        assert self.entries is not None
        self.entries[k] = entry
        self.used.add(k)
        self.new = True

    def write(self) -> bool:
        """Write back the entries this process used, if any is new (so no past versions stay); say if it wrote."""
        if self.store is None or self.entries is None or not self.new:
            return False
        self.entries = {k: v for k, v in self.entries.items() if k in self.used}
        self.store.put_data(self.name, self.entries)
        self.new = False
        return True


class Memo(Entries):
    """Per-file load results for one process; read from and written back to a Store once per load."""

    def __init__(self, store: Store | None = None, code: str | None = None) -> None:
        super().__init__(store, f"load-memo-{code or loader_hash()}")
        self._dirs: dict[Path, str] = {}  # digests of function directories, for the load under way only
        self._decoded: dict[str, FileResult] = {}  # entries already rebuilt (a resident process loads again)

    def begin(self) -> None:
        """Start a load: read the stored entries once, and forget directory digests of an earlier load."""
        self._dirs = {}
        self.read()

    def lookup(self, rel: str, data: bytes, root: Path) -> FileResult | None:
        """Return the remembered result of this file's bytes, if everything it was read from is unchanged."""
        k = _key(rel, data)
        entry = (self.entries or {}).get(k)
        try:
            if entry is not None and self._current(entry["deps"], root):
                value = self._decoded.get(k) or decode(entry["result"])
                if isinstance(value, FileResult):
                    self._decoded[k] = value
                    self.hit(k)
                    return value
        except (KeyError, TypeError, ValueError, IndexError, Unmemoizable):
            pass
        self.misses += 1
        return None

    def record(self, rel: str, data: bytes, root: Path, result: FileResult, helpers: Sequence[str],
               sources: Sequence[str]) -> None:
        """Remember a file's result with the helper files and function directories it was read from."""
        if self.entries is None:
            return
        try:
            encoded = exact(result)
            if str(root) in repr(encoded):
                raise Unmemoizable(rel)
            deps = {"files": {h: _file_digest(root / h) for h in helpers},
                    "dirs": {s: self._dir_digest(root, s) for s in sources}}
        except (Unmemoizable, OSError, ValueError):
            return
        self.keep(_key(rel, data), {"deps": deps, "result": encoded})

    def save(self) -> None:
        """Write back the entries this process used, if any is new (so the memo holds no file's past versions)."""
        if self.write():
            self._decoded = {k: v for k, v in self._decoded.items() if k in self.used}

    def _current(self, deps: Mapping[str, Mapping[str, str]], root: Path) -> bool:
        try:
            return all(_file_digest(root / p) == d for p, d in deps["files"].items()) and all(
                self._dir_digest(root, p) == d for p, d in deps["dirs"].items())
        except OSError:
            return False

    def _dir_digest(self, root: Path, rel: str) -> str:
        path = root / rel
        if path not in self._dirs:
            self._dirs[path] = code_digest(path) if path.is_dir() else "absent"
        return self._dirs[path]


def _key(rel: str, data: bytes) -> str:
    return hashlib.sha256(rel.encode() + b"\0" + data).hexdigest()


def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return "absent"


def encode(value: object) -> Any:
    """Turn a load result into JSON data that `decode` rebuilds exactly; raise Unmemoizable for anything else."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, FileResult):
        return {"r": [encode(v) for v in value]}
    if isinstance(value, tuple):
        return {"t": [encode(v) for v in value]}
    if isinstance(value, list):
        return {"l": [encode(v) for v in value]}
    if isinstance(value, (dict, MappingProxyType)):
        return {"m" if isinstance(value, MappingProxyType) else "d": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, dt.datetime):
        return {"dt": value.isoformat()}
    cls = type(value)
    if _CLASSES.get(cls.__name__) is cls and dataclasses.is_dataclass(value):
        return {"c": cls.__name__, "f": [encode(getattr(value, f.name)) for f in dataclasses.fields(value)]}
    raise Unmemoizable(cls.__name__)


def exact(value: object) -> Any:
    """Return `encode(value)` if `decode` rebuilds it equal; raise Unmemoizable otherwise."""
    encoded = encode(value)
    if decode(encoded) != value:
        raise Unmemoizable(type(value).__name__)
    return encoded


def decode(data: Any) -> Any:
    """Rebuild a value encoded by `encode` (dataclasses field by field, as they were, without re-running checks)."""
    kind = type(data)
    if kind in _SCALARS:  # most of an entry: checked first, by exact type (JSON gives no subclasses)
        return data
    if kind is not dict:
        if isinstance(data, (bool, int, float, str)):
            return data
        raise Unmemoizable(repr(data)[:80])
    if "c" in data:
        cls = _CLASSES[data["c"]]
        obj: Any = object.__new__(cls)
        for name, v in zip(_FIELDS[cls], data["f"], strict=True):
            object.__setattr__(obj, name, v if type(v) in _SCALARS else decode(v))
        return obj
    if len(data) != 1:
        raise Unmemoizable(repr(data)[:80])
    if "r" in data:
        return FileResult(*(decode(v) for v in data["r"]))
    if "t" in data or "l" in data:
        items = [decode(v) for v in data["t" if "t" in data else "l"]]
        return tuple(items) if "t" in data else items
    if "m" in data or "d" in data:
        pairs = {decode(k): decode(v) for k, v in data["m" if "m" in data else "d"]}
        return MappingProxyType(pairs) if "m" in data else pairs
    if "dt" in data:
        return dt.datetime.fromisoformat(data["dt"])
    raise Unmemoizable(repr(data)[:80])
