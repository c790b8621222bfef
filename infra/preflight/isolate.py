"""Run the program under review in a child process; only its registrations come back, as plain data.

The program and the components are the code a pull request changes, and they run under mocks; the policy pack and
this engine are the gate that judges them. So the gate's process never imports a component: a child interpreter
(`python -I`) builds each requested workflow under Pulumi's mocks and writes one JSON line per workflow (every
registration, its inputs as the protobuf bytes the engine would receive, and the components' outputs). The gate
rebuilds `Capture` values from that data and runs the rules itself; nothing the child runs can reach its objects.
The request goes the other way as a pickle: it is written by the gate and read by the child, never the reverse.
"""

from __future__ import annotations

import base64
import copyreg
import io
import json
import os
import pickle
import subprocess
import sys
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
_CHILD = "import sys; sys.path.insert(0, sys.argv[1]); from infra.preflight.isolate import child_main; child_main()"


@dataclass(frozen=True)
class Job:
    """One workflow to build: on which (narrowed) stack, stamped with which commit."""

    workflow: Workflow
    stack: StackConfig
    commit: str


def capture_all(root: Path, jobs: Sequence[Job]) -> list[Capture | str]:
    """Build each job's workflow in one child process; return its capture, or the program's error text."""
    if not jobs:
        return []
    request = _dumps((str(root), list(jobs)))
    try:
        done = subprocess.run([sys.executable, "-I", "-c", _CHILD, str(CODE_ROOT)], input=request,
                              capture_output=True, timeout=TIMEOUT_S, check=False)
        out, err, code = done.stdout, done.stderr, done.returncode
    except subprocess.TimeoutExpired as exc:
        out, err, code = exc.stdout or b"", exc.stderr or b"", -1
    found: dict[int, Capture | str] = {}
    for line in out.splitlines():
        try:
            item = json.loads(line)
            found[int(item["i"])] = str(item["error"]) if "error" in item else _capture(item)
        except (ValueError, KeyError, TypeError, IndexError):
            continue  # not a result line: whatever the program wrote to our channel is ignored
    tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] if err else []
    why = (f"did not finish within {TIMEOUT_S:.0f} s" if code == -1 else
           f"ended (exit code {code}) before it built this workflow" + (f": {tail[0]}" if tail else ""))
    return [found.get(i, f"the program's process {why}") for i in range(len(jobs))]


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
    """In the child: build each requested workflow under mocks; one JSON line per workflow on the original stdout."""
    from infra.preflight.evaluate import run_capture
    from infra.program import Providers, build_one

    channel = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # what the program prints goes to stderr, never into the results
    sys.stdout = sys.stderr
    root, jobs = pickle.loads(sys.stdin.buffer.read())
    for i, job in enumerate(jobs):
        def program(job: Job = job) -> None:
            build_one(job.workflow, job.stack, Path(root), job.commit, providers=Providers(job.stack))
        try:
            item: dict[str, Any] = {"i": i, **_data(run_capture(program, job.stack.name))}
            line = json.dumps(item, default=str)
        except Exception as exc:  # the program's own failure: the gate blocks on it, with its message
            line = json.dumps({"i": i, "error": str(exc)})
        channel.write(line + "\n")
        channel.flush()
