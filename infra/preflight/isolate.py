"""Run the program under review in a child process; only its registrations come back, as plain data.

The program and the components are the code a pull request changes, and they run under mocks; the policy pack and
this engine are the gate that judges them. So the gate's process never imports a component: a child interpreter
(`python -I`) builds each requested workflow under Pulumi's mocks and writes one JSON line per workflow (every
registration, its inputs as the protobuf bytes the engine would receive, and the components' outputs). The gate
rebuilds `Capture` values from that data and runs the rules itself; nothing the child runs can reach its objects.
The request goes the other way as a pickle: it is written by the gate and read by the child, never the reverse.
A pool of children (`--workers`, default: the CPUs this process may use) serves every request of a gate process
(head and base, every stack, every preview of a long-lived process), so each child imports the provider SDKs once;
a cold run builds on every core while this process judges the slices as they come back.
"""

from __future__ import annotations

import atexit
import base64
import copyreg
import gc
import io
import json
import os
import pickle
import select
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from google.protobuf import struct_pb2
from pulumi.runtime import rpc

from infra.isolated import child_env, stop_group
from infra.model import StackConfig, Workflow, frozen_map
from infra.preflight.capture import Capture, Registration

CODE_ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = float(os.environ.get("LOCKSTEP_PROGRAM_TIMEOUT", "900"))  # per workflow
WORKERS_ENV = "LOCKSTEP_WORKERS"
MIN_JOBS = 8  # a child's start (importing the provider SDKs) costs about as much as building this many workflows
BATCH_MAX = 16  # workflows per request: small enough to keep every child busy to the end, large enough to be cheap
_CHILD = "import sys; sys.path.insert(0, sys.argv[1]); from infra.preflight.isolate import child_main; child_main()"
_pool: list[_Child] = []  # children kept for the whole gate process: each pays the SDK imports once
_workers: int | None = None  # --workers; None: $LOCKSTEP_WORKERS, else the CPUs this process may run on


@dataclass(frozen=True)
class Job:
    """One workflow to build: on which (narrowed) stack, stamped with which commit."""

    workflow: Workflow
    stack: StackConfig
    commit: str


def use_workers(count: int | None) -> None:
    """Set how many child processes build workflows at once (None: $LOCKSTEP_WORKERS, else the usable CPUs)."""
    global _workers
    _workers = count


def worker_count() -> int:
    """Return how many child processes a capture may use."""
    if _workers is not None:
        return max(1, _workers)
    text = os.environ.get(WORKERS_ENV, "").strip()
    if text.isdigit() and int(text) > 0:
        return int(text)
    return len(os.sched_getaffinity(0)) or 1


def warm() -> None:
    """Start one child now if none runs, so its imports (the provider SDKs) overlap the caller's work."""
    if not any(c.proc.poll() is None for c in _pool):
        _start()


def capture_all(root: Path, jobs: Sequence[Job]) -> list[Capture | str]:
    """Build each job's workflow in child processes; return its capture, or the program's error text, in order."""
    found = dict(capture_each(root, jobs))
    return [found[i] for i in range(len(jobs))]


def capture_each(root: Path, jobs: Sequence[Job]) -> Iterator[tuple[int, Capture | str]]:
    """Build the jobs in a pool of child processes; yield (index, capture or error text) as each one finishes.

    Jobs go out in batches to whichever child is free. A child that dies or runs out of time fails only the
    workflow it was building (the first one of its batch without a result); the rest of its batch is sent again,
    so which workflows fail never depends on how the jobs were batched or on the number of children.
    """
    if not jobs:
        return
    busy: dict[int, _Child] = {}
    try:
        yield from _schedule(root, jobs, busy)
    finally:  # given up half-way (the caller failed): a child's unread lines must never answer a later request
        for child in busy.values():
            _drop(child)


def _schedule(root: Path, jobs: Sequence[Job], busy: dict[int, _Child]) -> Iterator[tuple[int, Capture | str]]:
    size = max(1, min(BATCH_MAX, -(-len(jobs) // (worker_count() * 4))))
    todo = deque(list(range(i, min(i + size, len(jobs)))) for i in range(0, len(jobs), size))
    idle = _children(_wanted(len(jobs), len(todo)))
    while todo or busy:
        while todo and idle:
            child, batch = idle.pop(), todo.popleft()
            if child.send(root, [jobs[i] for i in batch], batch):
                busy[child.fd] = child
                continue
            yield from _failed(child, todo)
            if todo:
                idle.append(_start())
        wait = max(0.0, min(c.deadline for c in busy.values()) - time.monotonic()) if busy else 0.0
        ready = set(select.select(list(busy), [], [], wait)[0]) if busy else set()
        for fd, child in list(busy.items()):
            if fd in ready:
                yield from child.receive()
            elif child.deadline <= time.monotonic():
                child.why = f"did not finish within {TIMEOUT_S:.0f} s"
            if child.waiting and not child.why:
                continue
            del busy[fd]
            if child.why:
                yield from _failed(child, todo)
                if todo:
                    idle.append(_start())
            else:
                idle.append(child)


def _wanted(jobs: int, batches: int) -> int:
    """Return how many children to use: each new one costs the SDK imports, so by default one per MIN_JOBS jobs."""
    alive = sum(1 for c in _pool if c.proc.poll() is None)
    chosen = _workers is not None or bool(os.environ.get(WORKERS_ENV))
    by_default = worker_count() if chosen else max(1, jobs // MIN_JOBS, alive)
    return max(1, min(worker_count(), batches, by_default))


def _failed(child: _Child, todo: deque[list[int]]) -> Iterator[tuple[int, str]]:
    """Blame a dead or stuck child's current workflow, resend the rest of its batch, and drop the child.

    A child that died before it was ready (the program does not even import) fails every job left.
    """
    _drop(child)
    if not child.ready:
        yield from ((i, f"the program's process {child.why}") for i in [*child.batch, *(i for b in todo for i in b)])
        todo.clear()
    elif child.batch:
        yield child.batch[0], f"the program's process {child.why}"
        if child.batch[1:]:
            todo.appendleft(child.batch[1:])


def _drop(child: _Child) -> None:
    _stop(child.proc)
    if child in _pool:
        _pool.remove(child)


def _children(count: int) -> list[_Child]:
    """Return `count` live children, reusing the ones this process started before."""
    _pool[:] = [c for c in _pool if c.proc.poll() is None]
    while len(_pool) < count:
        _start()
    return list(_pool[:count])


def _start() -> _Child:
    child = _Child(subprocess.Popen([sys.executable, "-I", "-c", _CHILD, str(CODE_ROOT)], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, env=child_env(),
                                    process_group=0))  # Ctrl-C is the gate's to handle; leftovers die with the group
    _pool.append(child)
    return child


class _Child:
    """One child process and the batch it is building: sends a request, reads its result lines."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdin is not None and proc.stdout is not None
        self.proc, self.fd = proc, proc.stdout.fileno()
        self.sent: list[int] = []  # the request's jobs, as indices into the caller's jobs (the child counts from 0)
        self.batch: list[int] = []  # those still without a result, in order
        self.buffer, self.why, self.deadline, self.ready = b"", "", 0.0, False
        self.waiting = False  # a request is out and its `done` line has not come back

    def send(self, root: Path, jobs: list[Job], batch: list[int]) -> bool:
        """Send one request; False (and why) if the child is gone."""
        assert self.proc.stdin is not None
        self.sent, self.batch, self.why, self.waiting = list(batch), list(batch), "", True
        self.deadline = time.monotonic() + TIMEOUT_S
        try:
            self.proc.stdin.write(base64.b64encode(_dumps((str(root), jobs))) + b"\n")
            self.proc.stdin.flush()
            return True
        except OSError:
            self.why = f"ended (exit code {self.proc.poll()}) before it built this workflow"
            return False

    def receive(self) -> Iterator[tuple[int, Capture | str]]:
        """Read what the child wrote; yield each finished workflow (the batch is empty once it says `done`)."""
        chunk = os.read(self.fd, 1 << 20)
        if not chunk:
            self.why = f"ended (exit code {self.proc.wait()}) before it built this workflow"
            return
        self.buffer += chunk
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            try:
                item = json.loads(line)
                if "ready" in item:  # the program and the SDKs imported: from now on a death is one workflow's
                    self.ready = True
                    continue
                if "done" in item:  # every job has its line by now, unless something else wrote to our channel
                    yield from ((i, "the program's process ended this request without building this workflow")
                                for i in self.batch)
                    self.batch, self.waiting = [], False
                    continue
                index = self.sent[int(item["i"])]
                result: Capture | str = str(item["error"]) if "error" in item else _capture(item)
            except (ValueError, KeyError, TypeError, IndexError):
                continue  # not a result line: whatever the program wrote to our channel is ignored
            if index in self.batch:
                self.batch.remove(index)
                self.deadline = time.monotonic() + TIMEOUT_S
                yield index, result


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    stop_group(proc.pid)  # and whatever the program started and left running


@atexit.register
def _stop_workers() -> None:
    for child in _pool:
        _stop(child.proc)


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
    """In the child: serve requests (one line each); one JSON line per workflow, then a `done` line.

    The collector is off until the first request is answered: the provider SDKs' modules import lazily while the
    first workflows build, allocating a few hundred thousand long-lived objects and no garbage, and every
    collection over them is wasted (about half of a fresh child's first answer). They are then frozen out of every
    later collection, and young objects are collected every 50,000 allocations, as in the gate's process.
    """
    gc.disable()
    from infra.preflight.evaluate import run_capture
    from infra.program import Providers, build_one

    channel = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # what the program prints goes to stderr, never into the results
    sys.stdout = sys.stderr
    channel.write(json.dumps({"ready": True}) + "\n")
    channel.flush()
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
        if not gc.isenabled():
            gc.freeze()
            gc.set_threshold(50_000, *gc.get_threshold()[1:])
            gc.enable()
