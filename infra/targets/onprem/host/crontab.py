"""Marked crontab blocks: one per workflow, rendered here and parsed here (also on the host).

Stdlib only and free of package imports: the host-side script (hostops.py) is sent with this module's source
prepended, so the same parser decides what "our entry" is on both sides.

A block is exactly:
    # lockstep:begin <workflow> version=<version>
    <minute> * * * * <command>
    # lockstep:end <workflow>
Anything between a begin and its end belongs to that workflow; lines outside blocks are never touched.
"""

from __future__ import annotations

import shlex

BEGIN = "# lockstep:begin "
END = "# lockstep:end "


def render_block(workflow: str, version: str, minute_field: str, python: str, runner: str, log: str) -> str:
    """Render the marked block that runs a workflow's runner at the given host-zone minutes, every hour."""
    command = f"cd / && exec {shlex.quote(python)} {shlex.quote(runner)} >>{shlex.quote(log)} 2>&1"
    if "%" in command:
        raise ValueError(f"crontab command {command!r} contains '%', which cron turns into a newline")
    return f"{BEGIN}{workflow} version={version}\n{minute_field} * * * * {command}\n{END}{workflow}\n"


def find_blocks(text: str, workflow: str) -> list[str]:
    """Return every marked block of a workflow in crontab text, each as text ending in a newline."""
    blocks: list[str] = []
    current: list[str] | None = None
    for line in text.splitlines():
        if current is None and _is_begin(line, workflow):
            current = [line]
        elif current is not None:
            current.append(line)
            if line.strip() == f"{END}{workflow}":
                blocks.append("\n".join(current) + "\n")
                current = None
    if current is not None:  # an unterminated block (a hand edit deleted the end marker) is still ours
        blocks.append("\n".join(current) + "\n")
    return blocks


def replace_block(text: str, workflow: str, block: str | None) -> str:
    """Return crontab text with every block of the workflow removed and `block` (if any) appended once."""
    kept: list[str] = []
    inside = False
    for line in text.splitlines():
        if not inside and _is_begin(line, workflow):
            inside = True
        elif inside:
            if line.strip() == f"{END}{workflow}":
                inside = False
        else:
            kept.append(line)
    while kept and not kept[-1].strip():
        kept.pop()
    out = "\n".join(kept) + ("\n" if kept else "")
    return out + (block or "")


def block_lines(block: str) -> list[str]:
    """Return the schedule lines of a block: neither markers nor comments nor blank lines."""
    return [ln for ln in block.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


def stray_lines(text: str, runner: str) -> list[str]:
    """Return lines outside every marked block that invoke this runner (a copied or hand-made entry)."""
    strays: list[str] = []
    inside = False
    for line in text.splitlines():
        if line.startswith(BEGIN):
            inside = True
        elif line.startswith(END):
            inside = False
        elif not inside and runner in line and not line.lstrip().startswith("#"):
            strays.append(line)
    return strays


def _is_begin(line: str, workflow: str) -> bool:
    rest = line.strip()[len(BEGIN):] if line.strip().startswith(BEGIN) else None
    return rest is not None and (rest == workflow or rest.startswith(workflow + " "))
