"""Packages are built where only the deploying user can write, and a planted or partial file is never deployed."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from infra.bundle import UnsafeBuildDir, build_dir, bundle
from infra.loader import load_repo
from tests.preview_support import scratch_repo


def _workflow(tmp_path: Path):  # type: ignore[no-untyped-def]
    root = scratch_repo(tmp_path / "repo")
    return root, next(w for w in load_repo(root).workflows if w.name == "queue-drain")


def test_the_default_package_directory_is_the_users_own_cache(monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:
    monkeypatch.delenv("LOCKSTEP_BUILD_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root, wf = _workflow(tmp_path)
    built = bundle(wf, root, "aws")
    assert built.path.parent == build_dir() == tmp_path / "cache" / "lockstep" / "bundles"
    assert stat.S_IMODE(built.path.parent.stat().st_mode) == 0o700


def test_a_planted_package_under_the_expected_name_is_replaced_by_the_hashed_bytes(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LOCKSTEP_BUILD_DIR", str(tmp_path / "build"))
    root, wf = _workflow(tmp_path)
    first = bundle(wf, root, "gcp")
    first.path.write_bytes(b"planted: not the package that was hashed")
    again = bundle(wf, root, "gcp")
    assert again.path == first.path
    assert hashlib.sha256(again.path.read_bytes()).hexdigest() == again.sha256


def test_a_package_directory_others_may_write_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    monkeypatch.setenv("LOCKSTEP_BUILD_DIR", str(shared))
    root, wf = _workflow(tmp_path)
    with pytest.raises(UnsafeBuildDir, match=r"another user could plant the package that gets deployed — point "
                       r"LOCKSTEP_BUILD_DIR at a directory only you can write \(chmod 700\)"):
        bundle(wf, root, "aws")


def test_the_preview_refuses_a_shared_package_directory_at_once_with_exit_2(tmp_path: Path) -> None:
    import subprocess
    import sys

    root, _wf = _workflow(tmp_path)
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    done = subprocess.run([sys.executable, "-m", "infra.cli", "preview", "--stack", "staging", "--no-base",
                           "--root", str(root)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "LOCKSTEP_BUILD_DIR": str(shared), "LOCKSTEP_NO_CACHE": "1"})
    assert done.returncode == 2, done.stderr
    assert "another user could plant the package that gets deployed" in done.stderr
    assert "Traceback" not in done.stderr
