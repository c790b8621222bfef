"""Run the program under review in a child process; only its registrations come back, as plain data.

The program and the components are the code a pull request changes, and they run under mocks; the policy pack and
this engine are the gate that judges them. So the gate's process never imports a component: a child interpreter
(`python -I`) builds each requested workflow under Pulumi's mocks and writes one JSON line per workflow (every
registration, its inputs as the protobuf bytes the engine would receive, and the components' outputs). The gate
rebuilds `Capture` values from that data and runs the rules itself; nothing the child runs can reach its objects.
The request goes the other way as a pickle: it is written by the gate and read by the child, never the reverse.
One child serves every request of a gate process (head and base, and every preview of a long-lived process), so
the provider SDKs are imported once, as they were when the program ran in-process.
"""

from __future__ import annotations

import atexit
import base64
import copyreg
import io
import json
import os
import pickle
import select
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from google.protobuf import struct_pb2
from pulumi.runtime import rpc

from infra.model import StackConfig, Workflow, frozen_map
from infra.preflight.capture import Capture, Registration

CODE_ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = float(os.environ.get("LOCKSTEP_PROGRAM_TIMEOUT", "900"))
_worker: subprocess.Popen[bytes] | None = None  # one child per gate process: the SDK imports are paid once
_CHILD = "import sys; sys.path.insert(0, sys.argv[1]); from infra.preflight.isolate import child_main; child_main()"


@dataclass(frozen=True)
class Job:
    """One workflow to build: on which (narrowed) stack, stamped with which commit."""

    workflow: Workflow
    stack: StackConfig
    commit: str


def warm() -> subprocess.Popen[bytes]:
    """Start the child process now if none runs, so its imports overlap the caller's work; return it."""
    global _worker
    if _worker is None or _worker.poll() is not None:
        _worker = subprocess.Popen([sys.executable, "-I", "-c", _CHILD, str(CODE_ROOT)], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, process_group=0)  # Ctrl-C is the gate's to handle
    return _worker


def capture_all(root: Path, jobs: Sequence[Job]) -> list[Capture | str]:
    """Build each job's workflow in the child process; return its capture, or the program's error text."""
    global _worker
    if not jobs:
        return []
    _worker = warm()
    found, why = _exchange(_worker, base64.b64encode(_dumps((str(root), list(jobs)))) + b"\n")
    if why:  # a child that timed out or died is not reused: the next preview starts a fresh one
        _stop(_worker)
        _worker = None
    return [found.get(i, f"the program's process {why}") for i in range(len(jobs))]


def _exchange(proc: subprocess.Popen[bytes], request: bytes) -> tuple[dict[int, Capture | str], str]:
    """Send one request; read result lines until the child says it is done (or dies, or runs out of time)."""
    assert proc.stdin is not None and proc.stdout is not None
    found: dict[int, Capture | str] = {}
    try:
        proc.stdin.write(request)
        proc.stdin.flush()
    except OSError:
        return found, f"ended (exit code {proc.poll()}) before it built this workflow"
    deadline, buffer, fd = time.monotonic() + TIMEOUT_S, b"", proc.stdout.fileno()
    while True:
        while b"\n" not in buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return found, f"did not finish within {TIMEOUT_S:.0f} s"
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return found, f"ended (exit code {proc.wait()}) before it built this workflow"
            buffer += chunk
        line, buffer = buffer.split(b"\n", 1)
        try:
            item = json.loads(line)
            if "done" in item:
                return found, ""
            found[int(item["i"])] = str(item["error"]) if "error" in item else _capture(item)
        except (ValueError, KeyError, TypeError, IndexError):
            continue  # not a result line: whatever the program wrote to our channel is ignored


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait()


@atexit.register
def _stop_worker() -> None:
    if _worker is not None:
        _stop(_worker)


def _dumps(value: object) -> bytes:
    """Pickle the request; the model's read-only mappings travel as what they wrap."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    table: dict[type, Any] = dict(copyreg.dispatch_table)
    table[MappingProxyType] = _proxy
    pickler.dispatch_table = table
    pickler.dump(value)
    return buffer.getvalue()


def _proxy(value: MappingProxyType[Any, Any]) -> tuple[object, tuple[dict[Any, Any]]]:
    return frozen_map, (dict(value),)


def _capture(item: dict[str, Any]) -> Capture:
    regs = []
    for r in item["regs"]:
        obj = struct_pb2.Struct.FromString(base64.b64decode(r["object"], validate=True))
        regs.append(Registration(
            urn=str(r["urn"]), type=str(r["type"]), name=str(r["name"]), custom=bool(r["custom"]),
            parent=str(r["parent"]), dependencies=tuple(str(d) for d in r["dependencies"]),
            property_dependencies={str(k): tuple(str(u) for u in v) for k, v in r["property_dependencies"].items()},
            provider=str(r["provider"]), inputs=rpc.deserialize_properties(obj, keep_unknowns=True),
            options=dict(r["options"]), object=obj))
    outputs = item["outputs"]
    return Capture(regs, dict(outputs) if isinstance(outputs, dict) else {})


def _data(cap: Capture) -> dict[str, Any]:
    regs = [{"urn": r.urn, "type": r.type, "name": r.name, "custom": r.custom, "parent": r.parent,
             "dependencies": list(r.dependencies),
             "property_dependencies": {k: list(v) for k, v in r.property_dependencies.items()},
             "provider": r.provider, "options": r.options,
             "object": base64.b64encode(r.object.SerializeToString()).decode()} for r in cap.registrations]
    return {"regs": regs, "outputs": cap.outputs}


def child_main() -> None:
    """In the child: serve requests (one line each); one JSON line per workflow, then a `done` line."""
    from infra.preflight.evaluate import run_capture
    from infra.program import Providers, build_one

    channel = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # what the program prints goes to stderr, never into the results
    sys.stdout = sys.stderr
    for request in sys.stdin.buffer:
        root, jobs = pickle.loads(base64.b64decode(request))
        for i, job in enumerate(jobs):
            def program(job: Job = job, root: str = root) -> None:
                build_one(job.workflow, job.stack, Path(root), job.commit, providers=Providers(job.stack))
            try:
                item: dict[str, Any] = {"i": i, **_data(run_capture(program, job.stack.name))}
                line = json.dumps(item, default=str)
            except Exception as exc:  # the program's own failure: the gate blocks on it, with its message
                line = json.dumps({"i": i, "error": str(exc)})
            channel.write(line + "\n")
            channel.flush()
        channel.write(json.dumps({"done": len(jobs)}) + "\n")
        channel.flush()
