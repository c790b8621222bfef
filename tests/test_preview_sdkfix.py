"""pulumi.dynamic stacks a pickle wrapper per dynamic resource; the engine resets it before every capture."""

from __future__ import annotations

import pickle

from pulumi.dynamic import dynamic

from infra.preflight.sdkfix import reset_pickler


class Provider(dynamic.ResourceProvider):
    """A trivial dynamic provider to serialize."""


def test_each_dynamic_serialization_stacks_a_wrapper_and_reset_removes_them() -> None:
    reset_pickler()
    original = pickle._Pickler._batch_setitems  # type: ignore[attr-defined]
    dynamic.serialize_provider(Provider())
    once = pickle._Pickler._batch_setitems  # type: ignore[attr-defined]
    dynamic.serialize_provider(Provider())
    twice = pickle._Pickler._batch_setitems  # type: ignore[attr-defined]
    assert original is not once and once is not twice  # the SDK bug: one more wrapper every time
    reset_pickler()
    assert pickle._Pickler._batch_setitems is original  # type: ignore[attr-defined]
