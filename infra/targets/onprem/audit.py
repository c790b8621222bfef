"""Say who changed a workflow on an on-prem host: the manifest's writer for a release, none for a hand edit.

When another release runs than git's (cause `not-deployed`), the host's manifest names who deployed it
(`deployed_by`, `$LOCKSTEP_DEPLOYER` or user@machine of the deploy) and when: one SSH `read` op per incident. A hand
edit (cause `out-of-band`: a crontab line or unit changed at the console) was made as the deploy user, since the
crontab and the files are that user's, but which person logged in as it is only in the host's authentication log,
and the crontab's modification time only in cron's spool. Both are root's on Debian (`/var/log/auth.log`,
`/var/spool/cron/crontabs`, mode 1730), so the answer names the account and says why it names no person.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infra.model import StackConfig
from infra.targets.changes import Asked, Change
from infra.targets.liveread import Wanted
from infra.targets.onprem.host import deploy as steps
from infra.targets.onprem.host.ssh import OnpremError, SshSession
from infra.targets.onprem.live import _props

SOURCE = "host manifest"


def changed_by(stack: StackConfig, asked: Asked, connect: Mapping[str, Any]) -> Change:
    """Return the manifest's deployer for another release; for a hand edit, no principal and the account."""
    host = stack.onprem.host(asked.desired.host) if stack.onprem else None
    account = f"{host.user}@{host.name}" if host else f"the deploy user on {asked.desired.host}"
    if asked.cause != "not-deployed":
        return Change(source="host", reason=f"changed by hand as {account} (its crontab and files); who logged in "
                                            "as it is only in the host's auth log, which that user cannot read")
    try:
        props = _props(stack, Wanted(asked.workflow, asked.desired))
        with SshSession(props.conn, connect_timeout=float(connect.get("connect_timeout", 10.0))) as session:
            manifest = steps.read(session, props).get("manifest") or {}
    except (OnpremError, OSError) as exc:
        return Change(source=SOURCE, reason=f"reading it failed: {exc}")
    if not manifest.get("deployed_by"):
        return Change(source=SOURCE, reason=f"the manifest on {account} names no deployer")
    return Change(str(manifest["deployed_by"]), str(manifest.get("deployed_at", "")),
                  f"deployed commit {manifest.get('commit', 'unknown')}", SOURCE)
