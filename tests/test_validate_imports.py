"""`lockstep validate` and `lockstep explain` load no provider SDK: only infra/targets/<t>/component.py does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SDKS = ("pulumi_aws", "pulumi_azure_native", "pulumi_gcp", "boto3", "botocore", "google.cloud", "azure.mgmt")
PROBE = """
import json, sys
from infra.cli import main
sys.argv = ["lockstep", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {0!r} or m.startswith({1!r}))
print(json.dumps(loaded), file=sys.stderr)
"""


def _loaded(*args: str) -> list[str]:
    tops = tuple(s for s in SDKS if "." not in s)
    dotted = tuple(s for s in SDKS if "." in s)
    done = subprocess.run([sys.executable, "-c", PROBE.format(tops, dotted), *args, "--root", str(REPO)],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    last = done.stderr.strip().splitlines()[-1]
    found: list[str] = json.loads(last)
    return found


def test_validate_imports_no_provider_sdk() -> None:
    assert _loaded("validate") == []


def test_explain_imports_no_provider_sdk() -> None:
    assert _loaded("explain", "nightly-ledger-export") == []
