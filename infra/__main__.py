"""Pulumi.yaml's `main: infra/` runs this file: the Lockstep program for the selected stack."""

import sys
from pathlib import Path

# Pulumi runs this directory as a script; make the repository root importable so `infra` is the package.
# Its own directory comes off sys.path so that infra's modules are never importable as top-level names.
_HERE, _ROOT = Path(__file__).resolve().parent, str(Path(__file__).resolve().parents[1])
sys.path[:] = [p for p in sys.path if not (p and Path(p).resolve() == _HERE)]
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from infra.program import main  # noqa: E402

main()
