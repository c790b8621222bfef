"""Undo a process-wide side effect of pulumi.dynamic (pulumi 3.272.0) between program runs.

`pulumi.dynamic.dynamic.serialize_provider` replaces `pickle._Pickler._batch_setitems` with a wrapper around the
*current* one on every dynamic resource and never restores it. Each on-prem workflow (a dynamic resource) adds one
wrapper: serialization gets slower with every resource, and after ~950 of them in one process it fails with
RecursionError. The offline engine restores the original before every capture; the real program needs the same
(reported to the on-prem owner: infra/targets/onprem/host/resource.py).
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

_ORIGINAL: Callable[..., Any] = pickle._Pickler._batch_setitems  # type: ignore[attr-defined]


def reset_pickler() -> None:
    """Restore the standard library's `_batch_setitems`, dropping every wrapper pulumi.dynamic stacked on it."""
    pickle._Pickler._batch_setitems = _ORIGINAL  # type: ignore[attr-defined]
