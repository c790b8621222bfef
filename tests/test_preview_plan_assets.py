"""The plan compares archives by what identifies their content, never by the object's memory address."""

from __future__ import annotations

import pulumi

from infra.preflight.plan import _digest


def test_two_archive_objects_for_the_same_package_compare_equal() -> None:
    path = "/tmp/lockstep-bundles/queue-drain-aws-0f.zip"
    assert _digest({"code": pulumi.FileArchive(path)}, "/repo") == _digest({"code": pulumi.FileArchive(path)}, "/repo")


def test_a_different_package_is_a_change() -> None:
    first = _digest({"code": pulumi.FileArchive("/tmp/b/queue-drain-aws-0f.zip")}, "/repo")
    assert first != _digest({"code": pulumi.FileArchive("/tmp/b/queue-drain-aws-1e.zip")}, "/repo")


def test_string_assets_compare_by_text() -> None:
    assert _digest(pulumi.StringAsset("a"), "/r") == _digest(pulumi.StringAsset("a"), "/r")
    assert _digest(pulumi.StringAsset("a"), "/r") != _digest(pulumi.StringAsset("b"), "/r")
