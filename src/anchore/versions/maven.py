"""Maven versions, ordered as Maven's own ``ComparableVersion`` (3.8/3.9) orders them.

A port of its algorithm: the version splits into a tree of lists at ``.``,
``-`` and digit/letter transitions; items are integers, qualifiers
(``alpha`` < ``beta`` < ``milestone`` < ``rc`` = ``cr`` < ``snapshot`` <
release < ``sp``; others after, alphabetically), and sub-lists.
Every ``-`` opens a sub-list, so a hostile version nests as deep as it is long:
the comparison walks the trees with its own stack, not Python's.
"""

from __future__ import annotations

from anchore.versions.errors import bad, parser

__all__ = ["compare", "parse"]

_QUALIFIERS = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"]
_ALIASES = {"ga": "", "final": "", "release": "", "cr": "rc"}
_RELEASE_INDEX = str(_QUALIFIERS.index(""))


def _qualifier_key(value: str) -> str:
    """ComparableVersion.StringItem.comparableQualifier."""
    if value in _QUALIFIERS:
        return str(_QUALIFIERS.index(value))
    return f"{len(_QUALIFIERS)}-{value}"


class _Int(int):
    pass


class _Str(str):
    pass


_List = list


def _string_item(value: str, followed_by_digit: bool) -> _Str:
    if followed_by_digit and len(value) == 1:
        value = {"a": "alpha", "b": "beta", "m": "milestone"}.get(value, value)
    return _Str(_ALIASES.get(value, value))


def _is_null(item: object) -> bool:
    if isinstance(item, _Int):
        return item == 0
    if isinstance(item, _Str):
        return _qualifier_key(item) == _RELEASE_INDEX
    return isinstance(item, list) and len(item) == 0


def _normalize(items: list[object]) -> None:
    """Trailing null items go, list by list, back to front."""
    i = len(items) - 1
    while i >= 0:
        last = items[i]
        if _is_null(last):
            del items[i]
        elif not isinstance(last, list):
            break
        i -= 1


@parser("maven")
def _parse_cached(version: str) -> list[object]:
    text = version.lower()
    if not text.strip():
        raise bad("maven", version, "empty")
    root: list[object] = []
    stack = [root]  # the lists opened so far; the last is where items go

    def add(item: object) -> None:
        stack[-1].append(item)

    def open_list() -> None:
        child: list[object] = []
        stack[-1].append(child)
        stack.append(child)

    is_digit = False
    start = 0
    for i, c in enumerate(text):
        if c in ".-":
            add(_Int(0) if i == start else _parse_item(is_digit, text[start:i]))
            start = i + 1
            if c == "-":
                open_list()
        elif c.isdecimal():  # Java's Character.isDigit ('²' is not one; int() refuses it)
            if not is_digit and i > start:
                # a qualifier directly followed by a digit ('rc1'): Maven treats '.X' as
                # '-X', so the qualifier opens a sub-list when the list has items
                if stack[-1]:
                    open_list()
                add(_string_item(text[start:i], True))
                start = i
                open_list()
            is_digit = True
        else:
            if is_digit and i > start:
                add(_parse_item(True, text[start:i]))
                start = i
                open_list()
            is_digit = False
    if len(text) > start:
        if not is_digit and stack[-1]:  # a trailing '.X' is '-X' too
            open_list()
        add(_parse_item(is_digit, text[start:]))
    for items in reversed(stack):
        _normalize(items)
    return root


def _parse_item(is_digit: bool, text: str) -> object:
    if is_digit:
        return _Int(int(text))
    return _string_item(text, False)


def parse(version: str) -> list[object]:
    return _parse_cached(version)


def _cmp_leaf(a: object, b: object) -> int:
    """Item.compareTo for a pair that is not two lists; None stands for 'nothing here'."""
    if a is None:
        return -_cmp_leaf(b, None) if b is not None else 0
    while isinstance(a, list) and b is None:  # a list against nothing: its first item decides
        if not a:
            return 0
        a = a[0]
    if isinstance(a, _Int):
        if b is None:
            return 0 if a == 0 else 1
        if isinstance(b, _Int):
            return (a > b) - (a < b)
        return 1  # an int is greater than a string or a list
    if isinstance(a, _Str):
        if b is None:
            ka, kb = _qualifier_key(a), _RELEASE_INDEX
            return (ka > kb) - (ka < kb)
        if isinstance(b, _Int):
            return -1
        if isinstance(b, _Str):
            ka, kb = _qualifier_key(a), _qualifier_key(b)
            return (ka > kb) - (ka < kb)
        return -1  # a string is less than a list
    assert isinstance(a, list)
    return -1 if isinstance(b, _Int) else 1  # a list is less than an int, greater than a string


def _cmp_items(a: list[object], b: list[object]) -> int:
    """ListItem.compareTo, item by item, descending into pairs of sub-lists on a stack."""
    stack = [(a, b, 0)]
    while stack:
        left_list, right_list, i = stack.pop()
        if i >= max(len(left_list), len(right_list)):
            continue  # equal so far: the enclosing lists go on
        stack.append((left_list, right_list, i + 1))
        left = left_list[i] if i < len(left_list) else None
        right = right_list[i] if i < len(right_list) else None
        if isinstance(left, list) and isinstance(right, list):
            stack.append((left, right, 0))
            continue
        result = _cmp_leaf(left, right)
        if result:
            return result
    return 0


def compare(a: str, b: str) -> int:
    return _cmp_items(parse(a), parse(b))
