"""Marked crontab blocks: one per workflow, rendered here and parsed here (also on the host).

Stdlib only and free of package imports: the host-side script (hostops.py) is sent with this module's source
prepended, so the same parser decides what "our entry" is on both sides.

A block is exactly:
    # lockstep:begin <workflow> version=<version> instance=<instance>
    <minute> * * * * <command>
    # lockstep:end <workflow>
Anything between a begin and its end belongs to that workflow; lines outside blocks are never touched, except the
one line a workflow adopted (`lockstep import adopt`), which its first deploy swaps for its block. `instance` is
the identity of the Pulumi resource that installed the block: a replacement's create takes the block over (one block
per workflow per user), and the replaced resource's delete then removes only blocks that still carry its instance.
"""

from __future__ import annotations

import hashlib
import shlex

BEGIN = "# lockstep:begin "
END = "# lockstep:end "


def render_block(workflow: str, version: str, minute_field: str, python: str, runner: str, log: str,
                 instance: str = "") -> str:
    """Render the marked block that runs a workflow's runner at the given host-zone minutes, every hour."""
    command = f"cd / && exec {shlex.quote(python)} {shlex.quote(runner)} >>{shlex.quote(log)} 2>&1"
    if "%" in command:
        raise ValueError(f"crontab command {command!r} contains '%', which cron turns into a newline")
    tag = f" instance={instance}" if instance else ""
    return f"{BEGIN}{workflow} version={version}{tag}\n{minute_field} * * * * {command}\n{END}{workflow}\n"


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


class CrontabError(ValueError):
    """The crontab's markers cannot be parsed safely (a begin without its end): nothing may be rewritten."""


def check_markers(text: str) -> None:
    """Raise CrontabError unless every begin marker is closed by its own end marker before any other marker."""
    open_: tuple[int, str] | None = None  # (line number, workflow) of the block being read
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith(BEGIN):
            if open_ is not None:
                raise _unclosed(*open_)
            words = stripped[len(BEGIN):].split()
            open_ = (number, words[0] if words else "")
        elif stripped.startswith(END) and open_ is not None:
            if stripped != f"{END}{open_[1]}":
                raise _unclosed(*open_)
            open_ = None
    if open_ is not None:
        raise _unclosed(*open_)


def _unclosed(number: int, workflow: str) -> CrontabError:
    return CrontabError(f"crontab line {number} begins the block of {workflow!r} but its end marker "
                        f"'{END}{workflow}' is missing; a rewrite cannot tell where that block stops, so nothing was "
                        "changed: restore the end marker with `crontab -e` (or remove the block), then deploy again")


def replace_block(text: str, workflow: str, block: str | None, only_instance: str | None = None) -> str:
    """Return crontab text with every block of the workflow removed and `block` (if any) appended once.

    With `only_instance`, remove only the blocks installed by that instance ('' : blocks that carry none).

    Raise CrontabError when a block has no end marker: dropping "everything up to the end" would take other
    workflows' blocks and the operator's own lines with it.
    """
    check_markers(text)
    kept: list[str] = []
    inside = False
    for line in text.splitlines():
        if not inside and _is_begin(line, workflow) and only_instance in (None, block_instance(line)):
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


def block_instance(begin_line: str) -> str:
    """Return the instance a begin marker names ('' when it names none)."""
    for word in begin_line.split():
        if word.startswith("instance="):
            return word[len("instance="):]
    return ""


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


def line_digest(line: str) -> str:
    """Return the sha256 of a crontab line, without surrounding blanks: how an adopted line is recorded and found
    again (the line itself may hold a credential, so neither the record nor the state keeps it)."""
    return hashlib.sha256(line.strip().encode()).hexdigest()


def without_line(text: str, digest: str) -> str | None:
    """Return crontab text without the first line outside every block whose `line_digest` is `digest` (None: no
    such line)."""
    lines, inside = text.splitlines(), False
    for number, line in enumerate(lines):
        if line.strip().startswith(BEGIN):
            inside = True
        elif line.strip().startswith(END):
            inside = False
        elif not inside and line.strip() and line_digest(line) == digest:
            kept = lines[:number] + lines[number + 1:]
            return "\n".join(kept) + ("\n" if kept else "")
    return None
