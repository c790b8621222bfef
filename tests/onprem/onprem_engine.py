"""From the user's own files to the real host: a repository written by the test, the real program, the SDK's own
dynamic-provider servicer, the real sshd and cron.

No Pulumi CLI can run here, so `Engine` plays the engine's part: it runs the program (`infra.program.run`, the same
entry `Pulumi.yaml` names) under Pulumi's mocks, takes each on-prem registration as the engine would receive it, starts
the SDK's own dynamic-provider host (`python -m pulumi.dynamic`, the process the engine starts for dynamic resources)
and sends it Check / Create / Diff / Update / Delete over gRPC; the dill-serialized provider travels in the inputs, as
in `pulumi up`. Resources are stepped in parallel threads, as `pulumi up` steps independent resources; a replace
honours the provider's deleteBeforeReplace.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import struct_pb2
from onprem_support import KEY_ENV, Host
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from infra import program
from infra.preflight.capture import Registration, capture

ONPREM = "pulumi-python:dynamic/lockstep-onprem:Workflow"
STACK = "e2e"
WORKFLOW = '''
from infra.dsl import cron, workflow

workflow(
    name={name!r},
    schema=1,
    description="End-to-end test workflow.",
    owner="onprem-tests@example.com",
    schedule=cron({expression!r}, tz="UTC"),
    function={{"source": "functions/{module}", "entry": "main.handler", "runtime": "python3.11", "memory_mb": 256}},
    retry={{"attempts": 1, "backoff": "fixed", "delay": "1s", "max_delay": "1s", "max_event_age": "1h"}},
    timeout="1m",
    notify=["mailto:ops@example.com"],
    targets={{"onprem": {{"host": {host!r}}}}},
)
'''


def host_yaml(host: Host, name: str, base_dir: str, *, address: str = "127.0.0.1", port: int | None = None,
              host_key: str | None = None, scheduler: str = "cron") -> str:
    """Return one `hosts:` entry of a stack file for the live test host."""
    return textwrap.indent(textwrap.dedent(f"""\
        - name: {name}
          address: {address}
          port: {port or host.port}
          user: {host.user}
          hostKey: {host_key or host.host_key}
          scheduler: {scheduler}
          timezone: Etc/UTC
          baseDir: {base_dir}
        """), "      ")


def write_repo(root: Path, host: Host, workflows: dict[str, str], *, hosts: str | None = None,
               code: str = "def handler(event, context):\n    print('ran', event['workflow'])\n",
               on: dict[str, str] | None = None) -> Path:
    """Write a repository as a user would: workflows/<name>.py, their functions, Pulumi.yaml, Pulumi.e2e.yaml."""
    (root / "workflows").mkdir(parents=True, exist_ok=True)
    for name, expression in workflows.items():
        module = name.replace("-", "_")
        (root / "workflows" / f"{module}.py").write_text(WORKFLOW.format(
            name=name, expression=expression, module=module, host=(on or {}).get(name, "box-01")))
        fn = root / "workflows" / "functions" / module
        fn.mkdir(parents=True, exist_ok=True)
        (fn / "main.py").write_text(code)
    (root / "Pulumi.yaml").write_text("name: lockstep\nruntime: python\nmain: infra/\n")
    write_stack(root, hosts or host_yaml(host, "box-01", host.base_dir(root.name)))
    return root


def write_stack(root: Path, hosts: str) -> None:
    """Write Pulumi.e2e.yaml with the given `hosts:` entries."""
    (root / f"Pulumi.{STACK}.yaml").write_text(
        f"config:\n  lockstep:onprem:\n    privateKeyEnv: {KEY_ENV}\n    hosts:\n{hosts}")


def registrations(root: Path) -> list[Registration]:
    """Run the real program for the e2e stack under mocks; return the on-prem resources it registered."""
    def run() -> None:
        program.run(root, STACK)

    return capture(run, stack=STACK).of_type(ONPREM)


REPO = Path(__file__).resolve().parents[2]


class ProviderHost:
    """The SDK's dynamic-provider process, started as the engine starts it; stopped by its own pid."""

    def __init__(self, deployer: str | None = None) -> None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
        if deployer:
            env["LOCKSTEP_DEPLOYER"] = deployer
        self.proc = subprocess.Popen([sys.executable, "-m", "pulumi.dynamic"], stdout=subprocess.PIPE, cwd=REPO,
                                     env=env)
        assert self.proc.stdout is not None
        port = self.proc.stdout.readline().decode().strip()
        if not port.isdigit():
            self.close()
            raise RuntimeError(f"the dynamic provider host did not start (printed {port!r})")
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)

    def call(self, method: str, request: Any) -> Any:
        """Send one request; a provider exception comes back as its traceback."""
        try:
            return getattr(self.stub, method)(request, timeout=300)
        except grpc.RpcError as exc:
            raise ProviderFailed(f"{method} failed:\n{exc.details()}") from None  # type: ignore[attr-defined]

    def close(self) -> None:
        """Stop the process."""
        self.proc.terminate()
        self.proc.wait(timeout=10)


class ProviderFailed(Exception):
    """The provider raised; the message holds its traceback as the engine would show it."""


def _struct(props: dict[str, Any]) -> struct_pb2.Struct:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(props, {}))
    finally:
        loop.close()


@dataclass
class Engine:
    """Pulumi's part of `pulumi up` for on-prem resources: state per URN, steps through the SDK's servicer."""

    state: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)  # urn -> (id, outputs)
    steps: list[str] = field(default_factory=list)
    deployer: str | None = None
    host: ProviderHost = field(init=False)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.host = ProviderHost(self.deployer)

    def up(self, root: Path) -> dict[str, dict[str, Any]]:
        """Run the program and apply it: every resource stepped in its own thread; gone ones deleted at the end."""
        regs = registrations(root)
        errors: list[BaseException] = []

        def step(reg: Registration) -> None:
            try:
                self._step(reg)
            except BaseException as exc:  # re-raised in the main thread, like the engine reports a failed step
                errors.append(exc)

        threads = [threading.Thread(target=step, args=(r,)) for r in regs]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        if errors:
            raise errors[0]
        for urn in sorted(set(self.state) - {r.urn for r in regs}):
            self.delete(urn)
        return {urn: outs for urn, (_, outs) in self.state.items()}

    def refresh(self) -> None:
        """Read every resource back from its host, as `pulumi refresh` (or `up --refresh`) does."""
        for urn, (id_, outs) in list(self.state.items()):
            resp = self.host.call("Read", provider_pb2.ReadRequest(id=id_, urn=urn, properties=_struct(outs)))
            with self.lock:
                if resp.id:
                    self.state[urn] = (resp.id, rpc.deserialize_properties(resp.properties))
                else:
                    del self.state[urn]

    def delete(self, urn: str) -> None:
        """Delete one resource through the provider host, as `pulumi up` does for a resource the program dropped."""
        id_, outs = self.state[urn]
        self.host.call("Delete", provider_pb2.DeleteRequest(id=id_, urn=urn, properties=_struct(outs)))
        self._record(f"delete {urn.rsplit('::', 1)[-1]}")
        with self.lock:
            del self.state[urn]

    def _step(self, reg: Registration) -> None:
        old = self.state.get(reg.urn)
        checked = self.host.call("Check", provider_pb2.CheckRequest(
            urn=reg.urn, olds=_struct(old[1]) if old else struct_pb2.Struct(), news=reg.object))
        if checked.failures:
            raise RuntimeError(f"check failed: {[(f.property, f.reason) for f in checked.failures]}")
        if old is None:
            return self._create(reg.urn, checked.inputs)
        diff = self.host.call("Diff", provider_pb2.DiffRequest(id=old[0], urn=reg.urn, olds=_struct(old[1]),
                                                           news=checked.inputs))
        if diff.changes != provider_pb2.DiffResponse.DIFF_SOME:
            return None
        if not diff.replaces:
            resp = self.host.call("Update", provider_pb2.UpdateRequest(id=old[0], urn=reg.urn, olds=_struct(old[1]),
                                                                   news=checked.inputs))
            self._record(f"update {reg.name}")
            with self.lock:
                self.state[reg.urn] = (old[0], rpc.deserialize_properties(resp.properties))
            return None
        if diff.deleteBeforeReplace:
            self.delete(reg.urn)
            return self._create(reg.urn, checked.inputs)
        self._create(reg.urn, checked.inputs, replacing=old)
        self.host.call("Delete", provider_pb2.DeleteRequest(id=old[0], urn=reg.urn, properties=_struct(old[1])))
        self._record(f"delete-replaced {reg.name}")
        return None

    def _create(self, urn: str, inputs: struct_pb2.Struct, replacing: tuple[str, Any] | None = None) -> None:
        resp = self.host.call("Create", provider_pb2.CreateRequest(urn=urn, properties=inputs))
        self._record(f"{'create-replacement' if replacing else 'create'} {urn.rsplit('::', 1)[-1]}")
        with self.lock:
            self.state[urn] = (resp.id, rpc.deserialize_properties(resp.properties))

    def close(self) -> None:
        """Stop the provider host."""
        self.host.close()

    def _record(self, what: str) -> None:
        with self.lock:
            self.steps.append(what)
