"""Parse one numeric cron field (`*`, `a`, `a-b`, `/n` steps, comma lists, names) under a dialect's options."""

from __future__ import annotations

from dataclasses import dataclass


class NativeSyntaxError(ValueError):
    """An expression the platform itself would reject; the message gives the platform's reason."""


@dataclass(frozen=True)
class FieldRule:
    """How one dialect reads one field."""

    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # names[i] stands for low + i unless name_base says otherwise
    name_base: int = 0
    name_prefix: bool = False  # NCrontab: any case-insensitive prefix of a full name
    names_in_ranges: bool = True  # Debian: "Ranges or lists of names are not allowed"
    wrap: bool = False  # AWS hours `20-2`
    swap: bool = False  # NCrontab swaps a reversed range (`20-2` = `2-20`)
    single_step: bool = False  # `a/n` means `a-high/n`
    platform: str = "cron"


def parse_field(text: str, rule: FieldRule) -> frozenset[int]:
    """Return the values a field admits, or raise NativeSyntaxError echoing the bad part."""
    if not text:
        raise NativeSyntaxError(f"{rule.platform}: the {rule.name} field is empty")
    items = text.split(",")
    if len(items) > 1 and not rule.names_in_ranges and any(_is_name(i, rule) for i in items):
        raise NativeSyntaxError(f"{rule.platform}: {rule.name} {text!r} lists names; this dialect allows a name "
                                "only alone — use numbers in lists")
    values: set[int] = set()
    for item in items:
        values.update(_parse_item(item, rule))
    return frozenset(values)


def _parse_item(item: str, rule: FieldRule) -> list[int]:
    base, slash, step_text = item.partition("/")
    step = 1
    if slash:
        if not step_text.isdigit() or int(step_text) == 0:
            raise NativeSyntaxError(f"{rule.platform}: {rule.name} step {step_text!r} in {item!r} must be a "
                                    "positive whole number")
        step = int(step_text)
    if base == "*":
        return list(range(rule.low, rule.high + 1, step))
    if "-" in base:
        first, _, last = base.partition("-")
        if not rule.names_in_ranges and (_is_name(first, rule) or _is_name(last, rule)):
            raise NativeSyntaxError(f"{rule.platform}: {rule.name} range {base!r} uses names; this dialect "
                                    "allows a name only alone — use numbers in ranges")
        start, end = value_of(first, rule), value_of(last, rule)
        return _range(start, end, step, rule, item)
    start = value_of(base, rule)
    if slash:
        if not rule.single_step:
            raise NativeSyntaxError(f"{rule.platform}: {rule.name} {item!r}: a step needs a range or '*' here, "
                                    f"e.g. '{base}-{rule.high}/{step}'")
        return list(range(start, rule.high + 1, step))
    return [start]


def _range(start: int, end: int, step: int, rule: FieldRule, item: str) -> list[int]:
    if start <= end:
        return list(range(start, end + 1, step))
    if rule.swap:
        return list(range(end, start + 1, step))
    if not rule.wrap:
        raise NativeSyntaxError(f"{rule.platform}: {rule.name} range {item!r} runs backwards")
    span = list(range(start, rule.high + 1)) + list(range(rule.low, end + 1))
    return span[::step]


def value_of(text: str, rule: FieldRule) -> int:
    """Return the number a token stands for (digits or a name), range-checked."""
    if text.isdigit():
        value = int(text)
        if not rule.low <= value <= rule.high:
            raise NativeSyntaxError(f"{rule.platform}: {rule.name} value {value} is outside "
                                    f"{rule.low}-{rule.high}")
        return value
    index = _name_index(text, rule)
    if index is None:
        hint = f" or a name {rule.names[0]}..{rule.names[-1]}" if rule.names else ""
        raise NativeSyntaxError(f"{rule.platform}: {rule.name} value {text!r} is not a number in "
                                f"{rule.low}-{rule.high}{hint}")
    return index + (rule.name_base if rule.name_base else rule.low)


def _name_index(text: str, rule: FieldRule) -> int | None:
    upper = text.upper()
    for i, name in enumerate(rule.names):
        if upper == name.upper() or (rule.name_prefix and upper and name.upper().startswith(upper)):
            return i
    return None


def _is_name(text: str, rule: FieldRule) -> bool:
    token = text.partition("/")[0]
    return any(_name_index(part, rule) is not None for part in token.split("-") if part and not part.isdigit())


def render_values(values: frozenset[int], low: int, high: int) -> str:
    """Render a value set compactly: '*', 'a', 'a-b' runs and comma lists."""
    if values == frozenset(range(low, high + 1)):
        return "*"
    ordered = sorted(values)
    parts: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ",".join(parts)
