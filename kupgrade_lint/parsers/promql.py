"""Enough PromQL to find which label names and metric names an expression uses.

Label names appear in selectors (``{container_name!="POD"}``), in grouping and matching
clauses (``by``, ``without``, ``on``, ``ignoring``, ``group_left``, ``group_right``) and as
string arguments of ``label_replace``/``label_join``. Strings and comments are skipped so that
a label name inside a string literal does not count, except where it is a label argument.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}
_KEYWORDS = _GROUPING | {"and", "or", "unless", "bool", "offset", "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count",
                         "count_values", "bottomk", "topk", "quantile", "atan2", "inf", "nan", "start", "end"}
_TOKEN = re.compile(
    r"""(?P<ws>\s+)|(?P<comment>\#[^\n]*)|(?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`)"""
    r"""|(?P<duration>\[[^\]]*\]|(?:[0-9]+(?:ms|s|m|h|d|w|y))+(?![A-Za-z0-9_:]))|(?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)|(?P<op>=~|!~|!=|==|[{}(),=<>+\-*/%^@])|(?P<number>[0-9][0-9.eE+\-a-fA-FxX]*)|(?P<other>.)"""
)


@dataclass(frozen=True)
class PromqlUse:
    """The label names and metric names an expression refers to, and its ``{__name__=~"..."}`` regexes."""

    labels: frozenset[str]
    metrics: frozenset[str]
    name_regexes: frozenset[str] = frozenset()


def analyse(expr: str) -> PromqlUse:
    """Tokenise the expression and collect its label and metric names."""
    tokens = [(m.lastgroup, m.group()) for m in _TOKEN.finditer(expr) if m.lastgroup not in ("ws", "comment")]
    labels: set[str] = set()
    metrics: set[str] = set()
    name_regexes: set[str] = set()
    closing: dict[int, int] = {}  # index of each "(" -> index of its ")"
    opened: list[int] = []
    for index, token in enumerate(tokens):
        if token == ("op", "("):
            opened.append(index)
        elif token == ("op", ")") and opened:
            closing[opened.pop()] = index
    i = 0
    depth_brace = 0
    while i < len(tokens):
        kind, text = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else (None, "")
        if kind == "op" and text == "{":
            depth_brace += 1
        elif kind == "op" and text == "}":
            depth_brace = max(0, depth_brace - 1)
        elif kind == "ident" and depth_brace:
            if nxt[0] == "op" and nxt[1] in ("=", "!=", "=~", "!~"):
                if text == "__name__" and i + 2 < len(tokens) and tokens[i + 2][0] == "string":
                    # Only positive matchers select: = names a metric, =~ a regex of names.
                    if nxt[1] == "=":
                        metrics.add(tokens[i + 2][1][1:-1])
                    elif nxt[1] == "=~":
                        name_regexes.add(tokens[i + 2][1][1:-1])
                else:
                    labels.add(text)
        elif kind == "ident" and text in _GROUPING and nxt == ("op", "("):
            j = i + 2
            while j < len(tokens) and tokens[j] != ("op", ")"):
                if tokens[j][0] == "ident":
                    labels.add(tokens[j][1])
                j += 1
            i = j
        elif kind == "ident" and text in ("label_replace", "label_join") and nxt == ("op", "("):
            # label_replace(v, dst, replacement, src, regex); label_join(v, dst, sep, src...).
            # Only the call's own arguments are read; a nested call is jumped over (its own
            # turn reads it), so nested calls cost one pass, not one per level.
            j, arg, args = i + 2, 0, {}
            end = closing.get(i + 1, len(tokens))
            while j < end:
                t = tokens[j]
                if t == ("op", "("):
                    j = closing.get(j, end)
                elif t == ("op", ","):
                    arg += 1
                elif t[0] == "string":
                    args.setdefault(arg, t[1][1:-1])
                j += 1
            label_args = (1, 3) if text == "label_replace" else tuple(a for a in args if a == 1 or a >= 3)
            labels.update(args[a] for a in label_args if a in args and args[a])
        elif kind == "ident" and text not in _KEYWORDS and nxt != ("op", "("):
            prev = tokens[i - 1] if i else (None, "")
            if prev != ("ident", "offset") and not text.startswith(("__",)):
                metrics.add(text)
        i += 1
    return PromqlUse(frozenset(labels), frozenset(metrics), frozenset(name_regexes))
