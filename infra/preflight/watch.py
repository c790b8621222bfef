"""`lockstep preview --watch`: a resident gate that judges the repository again whenever a file it reads changes.

One process keeps what a one-shot preview pays for on every run: the interpreter and the gate's imports, the
program's child process (the provider SDKs stay imported there), the verified slices in memory, and the loader's memo
of every workflow file. It polls the mtimes and sizes of workflows/ and the stack files every `interval` seconds (no
file-system events: nothing to install, the same on every platform), confirms a change by the content's sha256
(a touch or an editor's save of the same bytes is not a change), runs the preview of each stack again and prints
the verdict of the workflows that changed. Ctrl-C stops it.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TextIO

from infra.loader import WORKFLOW_DIR
from infra.loadmemo import Memo
from infra.preflight import isolate
from infra.preflight.cache import Cache
from infra.preflight.report_common import verdict
from infra.preflight.run import Preview, Violation, preview

INTERVAL_S = float(os.environ.get("LOCKSTEP_WATCH_INTERVAL", "0.2"))
SETTLE_S, SETTLE_ROUNDS = 0.05, 5  # an editor's save can take several writes: wait (bounded) for two equal polls
Snapshot = dict[str, tuple[int, int]]  # repo-relative path -> (mtime_ns, size)


def snapshot(root: Path) -> Snapshot:
    """Return the mtime and size of every file the preview reads: under workflows/, and the stack files."""
    found: Snapshot = {}
    _scan(root / WORKFLOW_DIR, f"{WORKFLOW_DIR}/", found)
    with os.scandir(root) as top:
        for entry in top:
            if entry.name.startswith("Pulumi") and entry.name.endswith(".yaml") and entry.is_file():
                st = entry.stat()
                found[entry.name] = (st.st_mtime_ns, st.st_size)
    return found


def _scan(folder: Path, prefix: str, found: Snapshot) -> None:
    try:
        entries = list(os.scandir(folder))
    except OSError:  # absent, or removed while listing: the next poll sees it
        return
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                if entry.name != "__pycache__":
                    _scan(Path(entry.path), f"{prefix}{entry.name}/", found)
            elif entry.is_file():
                st = entry.stat()
                found[prefix + entry.name] = (st.st_mtime_ns, st.st_size)
        except OSError:
            continue


class Watcher:
    """The repository's files as last judged, and the state a resident preview keeps between rounds."""

    def __init__(self, root: Path, stacks: Sequence[str], *, base: str | None, compare: bool,
                 cache_dir: Path | None, out: TextIO) -> None:
        self.root, self.stacks, self.base, self.compare, self.out = root, tuple(stacks), base, compare, out
        self.cache = Cache(cache_dir)
        self.memo = Memo(self.cache if self.cache.directory is not None else None)
        self.seen = snapshot(root)
        self.digests = {p: _sha(root / p) for p in self.seen}
        self.blocked = {s: True for s in self.stacks}  # each stack's last verdict (nothing judged yet: blocked)

    def judge(self, changed: Iterable[str] | None) -> None:
        """Preview every stack; print the verdict of the workflows behind `changed` (None: the whole repo)."""
        for stack in self.stacks:
            started = time.perf_counter()
            result = preview(self.root, stack, base=self.base, compare=self.compare, cache=self.cache,
                             memo=self.memo)  # no base revision: BaseError ends the watch, as it ends a preview
            self.blocked[stack] = result.blocked  # before printing: a Ctrl-C may come as soon as it is read
            for line in report(result, None if changed is None else set(changed)):
                self.say(line)
            self.say(f"{stack}: {verdict(result)} ({time.perf_counter() - started:.2f} s)")

    def changes(self) -> list[str]:
        """Return the files whose content changed (added and removed ones included) since the last call."""
        now = snapshot(self.root)
        if now == self.seen:
            return []
        for _ in range(SETTLE_ROUNDS):  # several writes in a row: wait for them to settle
            time.sleep(SETTLE_S)
            later = snapshot(self.root)
            if later == now:
                break
            now = later
        touched = {p for p in set(now) | set(self.seen) if now.get(p) != self.seen.get(p)}
        self.seen = now
        changed = []
        for path in sorted(touched):
            digest = _sha(self.root / path) if path in now else None
            if digest != self.digests.get(path):
                changed.append(path)
            if digest is None:
                self.digests.pop(path, None)
            else:
                self.digests[path] = digest
        return changed

    def say(self, line: str) -> None:
        """Print one line and flush it (editors and hooks read the output as it comes)."""
        print(line, file=self.out, flush=True)


def report(result: Preview, changed: set[str] | None) -> list[str]:
    """Return the lines for the changed workflows: each one's verdict and its violations (None: only problems)."""
    if result.errors:
        hit = [e for e in result.errors if changed is None or e.path in changed or not _owned(e.path)]
        return [f"  {e.render()}" for e in (hit or result.errors)]
    names = _changed_workflows(result, changed)
    each = changed is not None and all(_owned(p) for p in changed)  # else every workflow: name only the failing
    lines = []
    for name, path in names:
        mine = [v for v in result.violations if v.workflow == name]
        failed = sorted({v.target for v in mine if v.blocking})
        if each or failed:
            state = f"BLOCKED on {', '.join(failed)}" if failed else "passes on every target"
            lines.append(f"{result.stack}: {name} ({path}): {state}")
        lines += [_line(v) for v in mine]
    known = {name for name, _ in names}
    return lines + [_line(v) for v in result.violations if v.workflow not in known and v.blocking]


def _line(v: Violation) -> str:
    return f"  [{v.target}] {v.rule}: {v.path}:{v.line}: {v.message}"


def _changed_workflows(result: Preview, changed: set[str] | None) -> list[tuple[str, str]]:
    """Return (name, file) of the workflows a change touches; every one when a shared file or a stack changed."""
    declared = list(result.files.items())
    if changed is None or any(not _owned(p) for p in changed):
        return declared
    hit = [(n, p) for n, p in declared if p in changed]
    return hit + [(d.name, d.path) for d in result.workflow_changes  # removed: in the base only
                  if d.op == "delete" and d.path in changed and (d.name, d.path) not in hit]


def _owned(path: str) -> bool:
    """Tell whether a path belongs to one workflow (its file), not to every one (a helper, a stack file)."""
    parts = path.split("/")
    return len(parts) == 2 and parts[0] == WORKFLOW_DIR and path.endswith(".py") and not parts[1].startswith("_")


def _sha(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def watch(root: Path, stacks: Sequence[str], *, base: str | None = None, compare: bool = True,
          cache_dir: Path | None = None, out: TextIO = sys.stdout,
          until: Callable[[], bool] = lambda: False) -> int:
    """Judge the repo, then again on every change, until Ctrl-C (or `until()`); return 1 if the last run blocked.

    Raise base.BaseError when the base revision cannot be had (at the start, or later): nothing can be compared
    until that is fixed, so polling on would only repeat it.
    """
    watcher = Watcher(root, stacks, base=base, compare=compare, cache_dir=cache_dir, out=out)
    try:
        watcher.judge(None)
        isolate.warm()  # the program's process imports while the user edits, not after the first save
        watcher.say(f"watching {root} ({WORKFLOW_DIR}/ and Pulumi.*.yaml) every {INTERVAL_S:g} s; Ctrl-C stops")
        while not until():
            changed = watcher.changes()
            if not changed:
                time.sleep(INTERVAL_S)
                continue
            watcher.say(f"changed: {', '.join(changed)}")
            watcher.judge(changed)
    except KeyboardInterrupt:
        watcher.say("stopped")
    return 1 if any(watcher.blocked.values()) else 0
