"""Find the line of a field inside a workflow declaration by reading the file's syntax tree."""

from __future__ import annotations

import ast


def _calls(tree: ast.Module) -> tuple[ast.Call, ...]:
    return tuple(n for n in ast.walk(tree) if isinstance(n, ast.Call) and _name(n.func) == "workflow")


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def field_lines(tree: ast.Module, call_line: int) -> dict[str, int]:
    """Map dotted field paths ('function.memory_mb', 'targets.aws.region') to lines, for the call at call_line."""
    candidates = [c for c in _calls(tree) if c.lineno <= call_line <= (c.end_lineno or c.lineno)]
    if not candidates:
        return {}
    call = max(candidates, key=lambda c: c.lineno)
    lines: dict[str, int] = {}
    for kw in call.keywords:
        if kw.arg:
            _walk(kw.value, kw.arg, lines, kw.lineno)
    return lines


def _walk(node: ast.expr, path: str, lines: dict[str, int], line: int) -> None:
    lines[path] = line
    if isinstance(node, ast.Dict):
        for key, value in zip(node.keys, node.values, strict=False):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                _walk(value, f"{path}.{key.value}", lines, key.lineno)
    elif isinstance(node, ast.Call):
        positional = {"cron": ["expression"], "rate": ["every"]}.get(_name(node.func), [])
        for arg, name in zip(node.args, positional, strict=False):
            _walk(arg, f"{path}.{name}", lines, arg.lineno)
        for kw in node.keywords:
            if kw.arg:
                _walk(kw.value, f"{path}.{kw.arg}", lines, kw.lineno)
    elif isinstance(node, (ast.List, ast.Tuple)):
        for index, item in enumerate(node.elts):
            _walk(item, f"{path}[{index}]", lines, item.lineno)
