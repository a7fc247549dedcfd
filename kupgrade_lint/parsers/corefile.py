"""CoreDNS Corefiles (https://coredns.io/manual/toc/#configuration): server blocks and their plugins."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Option:
    """A line inside a plugin's block (``upstream``, ``pods insecure``): its name, arguments, line."""

    name: str
    args: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class Plugin:
    """A plugin directive at the top level of a server block, with the options of its block."""

    name: str
    args: tuple[str, ...]
    line: int
    options: tuple[Option, ...] = ()


@dataclass(frozen=True)
class ServerBlock:
    """``.:53 { ... }``: the zones/ports it serves, its plugins and the line it starts on."""

    keys: tuple[str, ...]
    plugins: tuple[Plugin, ...]
    line: int

    def has(self, plugin: str) -> bool:
        return any(p.name == plugin for p in self.plugins)


class CorefileError(ValueError):
    """Unbalanced braces or a block without keys."""


def _tokens(text: str):
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0]
        buf = ""
        for ch in line:
            if ch in "{}":
                if buf.strip():
                    yield from ((t, lineno) for t in buf.split())
                buf = ""
                yield ch, lineno
            else:
                buf += ch
        if buf.strip():
            yield from ((t, lineno) for t in buf.split())
        yield "\n", lineno


def parse_corefile(text: str) -> list[ServerBlock]:
    """Parse the server blocks, their plugins and each plugin block's options; deeper blocks are skipped."""
    blocks: list[ServerBlock] = []
    keys: list[str] = []
    key_line = 0
    depth = 0
    plugins: list[Plugin] = []
    current: list[tuple[str, int]] = []
    options: list[Option] = []
    option: list[tuple[str, int]] = []
    for token, line in _tokens(text):
        if depth == 0:
            if token == "{":
                if not keys:
                    raise CorefileError(f"line {line}: block without server keys")
                depth = 1
                plugins, current = [], []
            elif token == "}":
                raise CorefileError(f"line {line}: unexpected }}")
            elif token != "\n":
                if not keys:
                    key_line = line
                keys.extend(k for k in token.split(",") if k)
        elif depth == 1:
            if token == "\n" or token in "{}":
                if current:
                    plugins.append(Plugin(current[0][0], tuple(t for t, _ in current[1:]), current[0][1]))
                    current = []
                if token == "{":
                    depth += 1
                elif token == "}":
                    blocks.append(ServerBlock(tuple(keys), tuple(plugins), key_line))
                    keys, depth = [], 0
            else:
                current.append((token, line))
        elif depth == 2:
            if token == "\n" or token in "{}":
                if option:
                    options.append(Option(option[0][0], tuple(t for t, _ in option[1:]), option[0][1]))
                    option = []
                if token == "{":
                    depth += 1
                elif token == "}":
                    if plugins:
                        plugins[-1] = replace(plugins[-1], options=tuple(options))
                    options = []
                    depth -= 1
            else:
                option.append((token, line))
        else:
            if token == "{":
                depth += 1
            elif token == "}":
                depth -= 1
    if depth:
        raise CorefileError("unbalanced braces: a block is not closed")
    return blocks
