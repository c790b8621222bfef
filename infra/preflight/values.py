"""Input values a reviewer may read: flattened to leaf paths, secrets and unknowns replaced, long values shortened.

A preview shows old -> new per changed leaf (`tags.lockstep-digest: "1a2b…" -> "3c4d…"`). Values come from the
registered inputs only after this module has replaced every secret-wrapped value with `[secret]`, so no report can
print a secret even when a component passed one as an input.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.runtime import rpc

SECRET = "[secret]"
UNKNOWN = "(known after apply)"
MAX_TEXT = 300  # per leaf; a longer value keeps its start and a hash of the whole, so a change still shows
SKIP_KEYS = ("__provider",)  # the dynamic provider's serialized code: not a value anybody reviews
BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_quote = json.encoder.encode_basestring  # what json.dumps(str, ensure_ascii=False) does, without its set-up cost


def plain(value: Any, root: str) -> Any:
    """Return the value as JSON data: secrets and unknowns replaced, assets by content, the repo root blanked."""
    # Ordered by how often each kind occurs in registered inputs: this runs on every input of every resource.
    if isinstance(value, str):
        return UNKNOWN if value == rpc.UNKNOWN else _blank(value, root)
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return SECRET
        return {str(k): plain(v, root) for k, v in value.items() if k not in SKIP_KEYS}
    if isinstance(value, (bool, int)) or value is None:
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value  # the wire has only doubles: 180.0 was written 180
    if isinstance(value, (list, tuple)):
        return [plain(v, root) for v in value]
    return _asset(value, root)


def _asset(value: Any, root: str) -> Any:
    if isinstance(value, (pulumi.FileArchive, pulumi.FileAsset)):
        return {type(value).__name__: _blank(str(value.path), root)}
    if isinstance(value, (pulumi.RemoteArchive, pulumi.RemoteAsset)):
        return {type(value).__name__: str(value.uri)}
    if isinstance(value, pulumi.StringAsset):
        return {"StringAsset": value.text}
    if isinstance(value, pulumi.AssetArchive):
        return {"AssetArchive": {k: plain(v, root) for k, v in value.assets.items()}}
    if isinstance(value, Mapping):
        return plain(dict(value), root)
    return str(value)


def _blank(text: str, root: str) -> str:
    return text.replace(root, "<root>") if root else text


def leaves(inputs: Mapping[str, Any], root: str) -> dict[str, str]:
    """Return {leaf path: shown value} for every input leaf (`a.b[0].c`), secrets redacted."""
    out: dict[str, str] = {}
    _walk(plain(dict(inputs), root), "", out)
    return out


def _embedded(text: str) -> tuple[str, Any] | None:
    """Return JSON carried inside a string (an IAM policy, a base64 request body), to show it leaf by leaf."""
    try:
        if text[:1] in ("{", "["):
            return "json", json.loads(text)
        if len(text) >= 16 and len(text) % 4 == 0 and BASE64.fullmatch(text):
            decoded = base64.b64decode(text, validate=True).decode("utf-8")
            return ("base64 json", json.loads(decoded)) if decoded[:1] in ("{", "[") else None
    except ValueError:  # not JSON (or not base64 of UTF-8): the plain string is the value
        return None
    return None


def _walk(value: Any, path: str, out: dict[str, str]) -> None:
    inner = _embedded(value) if isinstance(value, str) and value not in (SECRET, UNKNOWN) else None
    if inner is not None and isinstance(inner[1], (dict, list)) and inner[1]:
        _walk(inner[1], f"{path}({inner[0]})", out)
    elif isinstance(value, dict) and value:
        for k in sorted(value):
            _walk(value[k], f"{path}.{k}" if path else k, out)
    elif isinstance(value, list) and value and (named := _by_name(value)) is not None:
        for k in sorted(named):
            _walk(named[k], f"{path}.{k}", out)
    elif isinstance(value, list) and value:
        for i, v in enumerate(value):
            _walk(v, f"{path}[{i}]", out)
    else:
        out[path] = shown(value)


def _by_name(items: list[Any]) -> dict[str, Any] | None:
    """Return a list of `{name, value}` pairs (app settings, environment variables) as {name: value}, else None.

    Keyed by name, a reviewer reads `siteConfig.appSettings.LOCKSTEP_ENTRY` rather than an index, and adding one
    setting shows one new leaf instead of shifting every later index.
    """
    if not all(isinstance(i, dict) and set(i) == {"name", "value"} and isinstance(i["name"], str) for i in items):
        return None
    names = [i["name"] for i in items]
    if len(set(names)) != len(names) or any(not n or "." in n or "[" in n for n in names):
        return None
    return {i["name"]: i["value"] for i in items}


def shown(value: Any) -> str:
    """Return one leaf as a reviewer reads it: JSON, at most MAX_TEXT characters."""
    if isinstance(value, str):
        text = value if value in (SECRET, UNKNOWN) else _quote(value)
    elif value is None or isinstance(value, (bool, int, float)):
        text = json.dumps(value)
    else:
        text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    if len(text) <= MAX_TEXT:
        return text
    return f"{text[:MAX_TEXT]}… (sha256 {hashlib.sha256(text.encode()).hexdigest()[:12]})"


def encode(values: Mapping[str, str]) -> str:
    """Return the leaves as one compact string (one string per resource keeps cached slices quick to read)."""
    return json.dumps(values, separators=(",", ":"), ensure_ascii=False)


def decode(text: str) -> dict[str, str]:
    """Return the leaves stored by `encode` ({} for a resource summarized without them)."""
    return dict(json.loads(text)) if text else {}


def changed(old: Mapping[str, str], new: Mapping[str, str]) -> list[tuple[str, str | None, str | None]]:
    """Return (path, old, new) for every leaf that differs; None where a side has no such leaf."""
    return [(p, old.get(p), new.get(p)) for p in sorted(set(old) | set(new)) if old.get(p) != new.get(p)]
