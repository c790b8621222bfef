"""Emulators for the drift tests, started by the tests on 127.0.0.1 with bounded waits and stopped afterwards.

AWS: moto's server (a subprocess), reset per test. GCP: drongo in-process (it serves Cloud Scheduler, Functions v2
and Monitoring; each scope starts empty). Azure: the fake ARM server of tests/drift/fakearm.py, reset per test.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.drift.fakearm import SUBSCRIPTION, FakeArm

READY_TIMEOUT_S = 30.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(proc: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the emulator exited with {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the emulator did not answer {url} within {READY_TIMEOUT_S} s")


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """Start moto_server on a free port; stop it at the end of the session."""
    port = _free_port()
    exe = os.path.join(os.path.dirname(sys.executable), "moto_server")
    proc = subprocess.Popen([exe, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(proc, url + "/moto-api/data.json")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def reset_moto(url: str) -> None:
    """Forget every resource moto holds."""
    urllib.request.urlopen(urllib.request.Request(url + "/moto-api/reset", method="POST"), timeout=10).close()


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Any]:
    """Reset moto and return a client factory for it; `lockstep drift` reads the same server."""
    import boto3

    reset_moto(moto_url)
    for k, v in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                 ("LOCKSTEP_AWS_ENDPOINT_URL", moto_url)):
        monkeypatch.setenv(k, v)
    return lambda svc: boto3.client(svc, endpoint_url=moto_url, region_name="eu-central-1")


@pytest.fixture
def gcp() -> Iterator[dict[str, Any]]:
    """Run the test inside drongo's in-process Google Cloud; return client keyword arguments (none needed)."""
    import drongo

    with drongo.mock_gcp():
        yield {}


@pytest.fixture(scope="session")
def fake_arm() -> Iterator[FakeArm]:
    """Start the fake ARM server; stop it at the end of the session."""
    arm = FakeArm().start()
    try:
        yield arm
    finally:
        arm.stop()


@pytest.fixture
def azure(fake_arm: FakeArm, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Reset the fake ARM; return azure-mgmt-* client keyword arguments for it."""
    from infra.targets.azure.live import connect_from_env

    fake_arm.reset()
    monkeypatch.setenv("LOCKSTEP_AZURE_ENDPOINT_URL", fake_arm.url)
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", SUBSCRIPTION)
    return {**connect_from_env(os.environ), "subscription_id": SUBSCRIPTION}


@pytest.fixture(autouse=True)
def list_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read with lists, as drift does at scale (from LIST_FROM workflows in a place on); point-read tests say so."""
    monkeypatch.setenv("LOCKSTEP_DRIFT_READS", "list")
