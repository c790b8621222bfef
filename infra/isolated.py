"""Run workflow modules in a child process; only their declarations come back, as plain JSON data.

A workflow file is Python. Run in the gate's own process, two lines of it could patch the policy pack or the
report and change the verdict. So the loader never executes one here: a child interpreter (`python -I`) executes
every file and writes one JSON line per file; this process decodes the declarations into `dsl.Declaration` values
and validates them with its own code. Nothing the child does can reach this process's objects; what it can send is
only what a workflow file could declare anyway. Values the JSON shape cannot carry come back as `Opaque` (their
type name and repr), which the validator refuses like any other wrong type.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import tempfile
import traceback
import types
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra import dsl
from infra.model import SecretRef

CODE_ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = float(os.environ.get("LOCKSTEP_LOAD_TIMEOUT", "120"))
MAX_DEPTH = 40
_CHILD = "import sys; sys.path.insert(0, sys.argv[1]); from infra.isolated import child_main; child_main()"


@dataclass(frozen=True)
class Opaque:
    """A value the child could not send as data: shown by its repr, never rebuilt."""

    type_name: str
    text: str

    def __repr__(self) -> str:
        return self.text

    __str__ = __repr__


@dataclass(frozen=True)
class Loaded:
    """What executing one workflow file produced: its declarations, or the error it raised (and where)."""

    declarations: tuple[dsl.Declaration, ...]
    error: str | None = None
    error_line: int = 1
    imports: tuple[str, ...] = ()  # the files of the modules it imported from its own folder (helpers)


def execute_files(paths: Sequence[Path]) -> dict[Path, Loaded]:
    """Execute the workflow files in a child process (a new one after a file ends it); return what each declared."""
    results: dict[Path, Loaded] = {}
    pending = list(paths)
    while pending:
        found, why = _run_child(pending)
        results.update(found)
        rest = [p for p in pending if p not in found]
        if rest:  # the child reports files in order: the first one missing is the one that ended it
            results[rest[0]] = Loaded((), f"SystemExit: the module {why}")
        pending = rest[1:]
    return results


# What a child that runs code under review must not inherit: the CI runner's file commands (GITHUB_ENV, GITHUB_PATH,
# GITHUB_OUTPUT, GITHUB_STEP_SUMMARY: writing them changes later steps of the job), its tokens and runtime settings.
_WITHHELD = ("GITHUB_", "ACTIONS_", "RUNNER_", "INPUT_", "BASH_ENV", "ENV", "PULUMI_ACCESS_TOKEN",
             "LOCKSTEP_CACHE_SIGNING_KEY", "LOCKSTEP_LEDGER_SIGNING_KEY")


def child_env() -> dict[str, str]:
    """Return the environment for a child process that runs workflow files or the program under review."""
    return {k: v for k, v in os.environ.items()
            if not any(k == w or (w.endswith("_") and k.startswith(w)) for w in _WITHHELD)}


def stop_group(pid: int) -> None:
    """Kill what a finished child left running in its process group (a process it started and did not wait for)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _run_child(paths: Sequence[Path]) -> tuple[dict[Path, Loaded], str]:
    request = json.dumps([str(p) for p in paths])
    # The results go to a file, not a pipe: a process the code under review started and left running would hold a
    # pipe open, and the gate would wait for it. Once the loader exits, whatever is left in its group is killed.
    with tempfile.TemporaryFile() as results_file:
        proc = subprocess.Popen([sys.executable, "-I", "-c", _CHILD, str(CODE_ROOT)], stdin=subprocess.PIPE,
                                stdout=results_file, stderr=subprocess.DEVNULL, env=child_env(),
                                process_group=0)  # Ctrl-C is the gate's to handle
        try:
            assert proc.stdin is not None
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.write(request.encode())
                proc.stdin.close()
            code = proc.wait(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            code = -1
        finally:
            stop_group(proc.pid)
            proc.wait()
        results_file.seek(0)
        out = results_file.read().decode("utf-8", "replace")
    results = {}
    for line in out.splitlines():
        try:
            item = json.loads(line)
            results[Path(item["path"])] = _loaded(item)
        except (ValueError, KeyError, TypeError):
            continue  # a line the child's user code wrote to our channel is not a result
    why = (f"did not finish loading within {TIMEOUT_S:.0f} s" if code == -1 else
           f"ended the loader process (exit code {code}) before it finished")
    return results, why


def _loaded(item: dict[str, Any]) -> Loaded:
    decls = tuple(d for d in (decode(x) for x in item["decls"]) if isinstance(d, dsl.Declaration))
    return Loaded(decls, item.get("error"), int(item.get("line") or 1), tuple(str(p) for p in item.get("imports", ())))


def encode(value: object, depth: int = 0) -> Any:
    """Turn a declared value into JSON data that `decode` rebuilds exactly (or as Opaque)."""
    if depth > MAX_DEPTH:
        return {"$opaque": type(value).__name__, "repr": "<nested too deeply>"}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dsl.Declaration):
        return {"$decl": value.kind, "args": encode(value.args, depth + 1), "path": value.path, "line": value.line}
    if isinstance(value, SecretRef):
        return {"$secret": encode(value.name, depth + 1)}
    if isinstance(value, dict):
        return {"$dict": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return {"$list" if isinstance(value, list) else "$tuple": [encode(v, depth + 1) for v in value]}
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"$timedelta": value.total_seconds()}
    return {"$opaque": type(value).__name__, "repr": _safe_repr(value)}


def decode(data: Any) -> object:
    """Rebuild a value encoded by `encode`; anything malformed becomes Opaque."""
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list) or not isinstance(data, dict):
        return Opaque("?", repr(data))
    if "$decl" in data:
        args = decode(data.get("args"))
        return dsl.Declaration(str(data["$decl"]), args if isinstance(args, dict) else {}, str(data.get("path")),
                               int(data.get("line") or 1))
    if "$secret" in data:
        return SecretRef(decode(data["$secret"]))  # type: ignore[arg-type] # the validator checks the name's type
    if "$dict" in data:
        return {_hashable(decode(k)): decode(v) for k, v in data["$dict"]}
    if "$list" in data or "$tuple" in data:
        items = [decode(v) for v in data.get("$list") or data.get("$tuple") or []]
        return items if "$list" in data else tuple(items)
    if "$datetime" in data:
        return dt.datetime.fromisoformat(str(data["$datetime"]))
    if "$timedelta" in data:
        return dt.timedelta(seconds=float(data["$timedelta"]))
    return Opaque(str(data.get("$opaque", "?")), str(data.get("repr", "?")))


def _hashable(value: object) -> object:
    try:
        hash(value)
    except TypeError:
        return Opaque(type(value).__name__, repr(value))
    return value


def _safe_repr(value: object) -> str:
    try:
        return repr(value)[:500]
    except Exception as exc:  # a user object whose __repr__ fails still gets a message
        return f"<{type(value).__name__} whose repr raised {type(exc).__name__}>"


def child_main() -> None:
    """In the child: execute each requested file and write one JSON line per file to the original stdout."""
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # what workflow code prints goes to stderr, never into the results
    sys.stdout = sys.stderr
    for item in _results(json.loads(sys.stdin.read())):
        channel.write(json.dumps(item) + "\n")
        channel.flush()


def _results(paths: list[str]) -> Iterator[dict[str, Any]]:
    for name in paths:
        path = Path(name)
        decls: list[dsl.Declaration] = []
        imports: list[str] = []
        error = _execute(path, decls, imports)
        item: dict[str, Any] = {"path": name, "decls": [encode(d) for d in decls], "imports": sorted(imports)}
        if error is not None:
            item["error"] = _safe_message(error)
            item["line"] = _line_in(error, name)
        yield item


def _execute(path: Path, decls: list[dsl.Declaration], imports: list[str]) -> BaseException | None:
    """Run one workflow module, collecting its declarations; helpers beside it (`_common.py`) are importable."""
    module = types.ModuleType(f"lockstep_workflows.{path.stem}")
    module.__file__ = str(path)
    folder = str(path.parent)
    before = set(sys.modules)
    sys.path.insert(0, folder)
    token = dsl.collect_into(decls)
    try:
        exec(compile(path.read_bytes(), str(path), "exec"), module.__dict__)
    except (Exception, SystemExit) as exc:  # user code fails or exits: report it, never end the run
        return exc
    finally:
        dsl.stop_collecting(token)
        if folder in sys.path:
            sys.path.remove(folder)
        for name in set(sys.modules) - before:  # helper modules belong to this file's load only
            file = getattr(sys.modules[name], "__file__", None) or ""
            if file.startswith(folder):
                imports.append(file)
                del sys.modules[name]
    return None


def _safe_message(exc: BaseException) -> str:
    try:
        return f"{type(exc).__name__}: {exc}"
    except Exception:  # an exception whose __str__ fails
        return type(exc).__name__


def _line_in(exc: BaseException, filename: str) -> int:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
    if frames and frames[-1].lineno:
        return frames[-1].lineno
    return getattr(exc, "lineno", None) or 1
