"""The pack's entry point for the Pulumi CLI: build the PolicyPack from pack.py (this starts the gRPC server).

Importing this module does nothing else: the server starts only when the module runs as the pack, so tests
import it safely. The repo root goes on sys.path because the rules read the canonical model from `infra`.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from policies.pack import DESCRIPTION, ENFORCEMENT, NAME, POLICIES  # noqa: E402


def serve() -> None:
    """Start the pack's analyzer server (it prints its port and never returns)."""
    from pulumi_policy import PolicyPack

    PolicyPack(name=NAME, policies=POLICIES, enforcement_level=ENFORCEMENT, description=DESCRIPTION)


if __name__ == "__main__":
    serve()
