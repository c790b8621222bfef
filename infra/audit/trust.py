"""The auditor's trust root: an allowed-signers file (ssh-keygen(1), "ALLOWED SIGNERS"), checked before it is used.

A file git cannot find a key in verifies nothing: every signature reads as an unknown key. So a file that is not
a readable regular file, or that holds no key, is a usage error, and so is any line that is not a key line (a
typo there would silently drop that key). Lines are never echoed (a pasted private key must not reach a log):
the message names the file, the line numbers and what each line lacks.
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path

# How many length-prefixed fields each public key's encoding holds (RFC 4253 6.6, RFC 5656 3.1, PROTOCOL.u2f).
KEY_FIELDS = {"ssh-ed25519": 2, "ssh-rsa": 3, "ssh-dss": 5, "ecdsa-sha2-nistp256": 3, "ecdsa-sha2-nistp384": 3,
              "ecdsa-sha2-nistp521": 3, "sk-ssh-ed25519@openssh.com": 3, "sk-ecdsa-sha2-nistp256@openssh.com": 4}
KEY_TYPES = frozenset(KEY_FIELDS)
FORMAT = "one line per key: PRINCIPALS [OPTIONS] KEYTYPE BASE64-KEY, as ssh-keygen's ALLOWED SIGNERS describes"
_WORD = re.compile(r'(?:[^\s"]+|"[^"]*")+')   # an options field may quote spaces: namespaces="git,file"


def problems(path: Path) -> list[str]:
    """Return every reason `path` cannot serve as --trust (empty: it holds keys and nothing else)."""
    if path.is_dir():
        return [f"--trust {path}: is a directory; pass the allowed-signers file itself (e.g. "
                f"{path / 'allowed_signers'}), {FORMAT}"]
    if not path.exists():
        return [f"--trust {path}: no such file; pass the allowed-signers file you hold for the pipeline's signing "
                f"key ({FORMAT})"]
    if not path.is_file():
        return [f"--trust {path}: is not a regular file; pass the allowed-signers file itself ({FORMAT})"]
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        return [f"--trust {path}: cannot be read ({exc.strerror}); pass an allowed-signers file you can read"]
    keys, bad = 0, []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        why = line_problem(stripped)
        if why:
            bad.append(f"--trust {path}:{number}: {why}; write {FORMAT}, or comment it out with #")
        else:
            keys += 1
    if keys == 0:
        what = "only lines that are not keys" if bad else "no line at all but comments and blank lines"
        bad.append(f"--trust {path}: holds no key ({what}); add the pipeline's public key as "
                   "`ledger@lockstep.invalid ssh-ed25519 AAAA...` (the principal, then the .pub file's contents)")
    return bad


def line_problem(line: str) -> str:
    """Return what is wrong with one non-comment line of an allowed-signers file ('' when it names a key)."""
    if line.startswith("-----BEGIN") or line.startswith("-----END"):
        return "is a PEM armour line (a private key?): an allowed-signers file holds public keys only"
    words = _WORD.findall(line)
    if len(words) < 3:
        return f"has {len(words)} field(s), not a principal, a key type and a key"
    at = 1 if words[1] in KEY_TYPES else 2 if len(words) > 3 and words[2] in KEY_TYPES else 0
    if not at:
        return "names no key type after the principals (and options): expected one of " + ", ".join(sorted(KEY_TYPES))
    return _key_problem(words[at], words[at + 1])


def _key_problem(key_type: str, blob: str) -> str:
    try:
        raw = base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError):
        return f"its {key_type} key is not base64"
    fields, pos = [], 0
    while pos + 4 <= len(raw):
        size = int.from_bytes(raw[pos:pos + 4], "big")
        fields.append(raw[pos + 4:pos + 4 + size])
        pos += 4 + size
    whole = pos == len(raw) and len(fields) == KEY_FIELDS[key_type] and fields[0] == key_type.encode()
    if not whole or (key_type.endswith("ed25519") and len(fields[1]) != 32):
        return f"its key is not a whole {key_type} public key (cut short, or encoding another type)"
    return ""
