"""GitHub-only facts for the gate entry, which a clone cannot show: PR, author, approvers, review decision, bypass.

They come from the push event payload ($GITHUB_EVENT_PATH) and three REST calls (the PR of the merge commit, its
reviews, the branch's rule suites for a bypass). `api(path)` is injected: the CLI uses urllib with $GITHUB_TOKEN,
tests use recorded responses. A fact that cannot be read is recorded as unknown, never guessed.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

Api = Callable[[str], Any]


def facts(event: Mapping[str, Any], api: Api | None) -> dict[str, Any]:
    """Return the merge's facts: commit, pusher, PR number/author/approvers, review decision, admin bypass."""
    repo = str((event.get("repository") or {}).get("full_name", ""))
    sha = str(event.get("after") or (event.get("head_commit") or {}).get("id", ""))
    out: dict[str, Any] = {"repository": repo, "commit": sha,
                           "pusher": (event.get("pusher") or {}).get("name", ""), "pr": None, "author": None,
                           "approvers": [], "review_decision": "unknown", "admin_bypass": "unknown"}
    if api is None or not repo or not sha:
        return out
    pulls = _call(api, f"/repos/{repo}/commits/{sha}/pulls") or []
    merged = next((p for p in pulls if p.get("merged_at")), None)
    if merged is not None:
        number = int(merged["number"])
        out.update(pr=number, author=(merged.get("user") or {}).get("login"))
        reviews = _call(api, f"/repos/{repo}/pulls/{number}/reviews") or []
        out["approvers"], out["review_decision"] = decision(reviews, str(out["author"]))
    suites = _call(api, f"/repos/{repo}/rulesets/rule-suites?ref=refs/heads/main")
    if isinstance(suites, list):
        mine = [s for s in suites if s.get("after_sha") == sha]
        out["admin_bypass"] = any(s.get("result") == "bypass" for s in mine) if mine else "unknown"
    return out


def decision(reviews: list[Mapping[str, Any]], author: str) -> tuple[list[str], str]:
    """Return (approvers, decision) from the latest review of each reviewer other than the author."""
    latest: dict[str, str] = {}
    for review in reviews:
        login = str((review.get("user") or {}).get("login", ""))
        if login and login != author and review.get("state") in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
            latest[login] = str(review["state"])
    approvers = sorted(k for k, v in latest.items() if v == "APPROVED")
    if "CHANGES_REQUESTED" in latest.values():
        return approvers, "CHANGES_REQUESTED"
    return approvers, "APPROVED" if approvers else "REVIEW_REQUIRED"


def _call(api: Api, path: str) -> Any:
    try:
        return api(path)
    except (OSError, ValueError):  # unreadable: the fact stays unknown
        return None


def from_environment(env: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """Return the facts of the running GitHub Actions job, or {} outside one."""
    path = env.get("GITHUB_EVENT_PATH")
    if not path or not Path(path).is_file():
        return {}
    event = json.loads(Path(path).read_text(encoding="utf-8"))
    token, base = env.get("GITHUB_TOKEN"), env.get("GITHUB_API_URL", "https://api.github.com")

    def api(route: str) -> Any:
        request = urllib.request.Request(base + route, headers={"Authorization": f"Bearer {token}",
                                                                "Accept": "application/vnd.github+json"})
        with urllib.request.urlopen(request, timeout=20) as response:
            return json.loads(response.read())
    return facts(event, api if token else None)
