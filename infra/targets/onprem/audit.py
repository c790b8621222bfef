"""Say who changed a workflow on an on-prem host: the host keeps no audit trail the deploy user can read.

The schedule lives in the deploy user's crontab and its files under that user's home, so whoever changed them
logged in as that user (or as root). Which person that was is only in the host's authentication log, and the
crontab's modification time only in cron's spool; both are root's on Debian (`/var/log/auth.log`,
`/var/spool/cron/crontabs`, mode 1730), so the answer names the account and says why it names no person.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infra.model import StackConfig
from infra.targets.changes import Asked, Change

SOURCE = "host"


def changed_by(stack: StackConfig, asked: Asked, connect: Mapping[str, Any]) -> Change:
    """Return no principal, naming the account the change was made as and why the person is unknown."""
    host = stack.onprem.host(asked.desired.host) if stack.onprem else None
    account = f"{host.user}@{host.name}" if host else f"the deploy user on {asked.desired.host}"
    return Change(source=SOURCE, reason=f"made as {account} (its crontab and files); who logged in as it is only "
                                        "in the host's auth log, which that user cannot read")
