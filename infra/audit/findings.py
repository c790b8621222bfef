"""What the audit reports: findings, each naming the ledger entry (or commit) and the control it bears on.

Controls are named as auditors name them: SOC 2 CC8.1 (change management: authorised, tested, approved, documented,
implemented), CC7.1 (detection of configuration changes), CC7.2 (monitoring and response to anomalies), and ISO/IEC
27001:2022 Annex A 8.32 (change management).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

CC8_1, CC7_1, CC7_2, A8_32 = "CC8.1", "CC7.1", "CC7.2", "A.8.32"

# check -> (the controls it evidences, what an auditor calls it)
CHECKS: dict[str, tuple[tuple[str, ...], str]] = {
    "chain": ((CC8_1, A8_32), "integrity of the change record"),
    "signature": ((CC8_1, A8_32), "authenticity of the change record"),
    "checkpoint": ((CC8_1, A8_32), "the change record was not replaced"),
    "backdated": ((CC8_1, CC7_2), "timeliness of the change record"),
    "completeness": ((CC8_1, A8_32), "completeness of the change population"),
    "approval": ((CC8_1, A8_32), "approval by someone other than the author"),
    "testing": ((CC8_1, A8_32), "testing before release (the policy gate)"),
    "staging": ((CC8_1, A8_32), "tested in staging before production"),
    "waves": ((CC8_1, CC7_1), "staged deployment, each stage verified"),
    "drift": ((CC7_1, CC7_2), "detection of and response to unauthorised changes"),
    "emergency": ((CC8_1, A8_32), "emergency change with after-the-fact review"),
}


@dataclass(frozen=True)
class Finding:
    """One thing the ledger does not prove, or proves went wrong."""

    check: str
    message: str
    seq: int | None = None     # the ledger entry it is about (None: a commit on main, or the branch as a whole)
    stack: str = ""
    kind: str = ""             # the entry's kind
    commit: str = ""           # the release or main commit it is about

    @property
    def controls(self) -> tuple[str, ...]:
        """Return the controls this finding bears on."""
        return CHECKS[self.check][0]

    def where(self) -> str:
        """Return the entry (seq, stack, kind) or the commit the finding names."""
        parts = []
        if self.seq is not None:
            parts.append(f"entry {self.seq}" + (f" ({', '.join(p for p in (self.stack, self.kind) if p)})"
                                                if self.stack or self.kind else ""))
        if self.commit:
            parts.append(f"commit {self.commit[:12]}")
        return ", ".join(parts) or "ledger branch"

    def render(self) -> str:
        """Return the finding as one line: where, controls, what the check is, what is wrong."""
        return f"{self.where()}: {' / '.join(self.controls)} {CHECKS[self.check][1]}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {**asdict(self), "controls": list(self.controls), "control_name": CHECKS[self.check][1],
                "text": self.render()}
