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
    """Unbalanced braces or a block without keys; ``line`` is the Corefile's line."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


def _tokens(text: str):
    # Only LF ends a line (as for CoreDNS and for the YAML the Corefile is embedded in);
    # str.splitlines would also split on form feeds, U+2028 and the like, and shift every line.
    for lineno, raw in enumerate(text.split("\n"), start=1):
        raw = raw.rstrip("\r")
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
    """Parse the server blocks, their plugins and each plugin block's options; deeper blocks are skipped.

    A leading byte order mark is ignored; CRLF is read as LF.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    blocks: list[ServerBlock] = []
    opened: list[int] = []  # the line of each open brace
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
                    raise CorefileError(line, "block without server keys")
                opened.append(line)
                depth = 1
                plugins, current = [], []
            elif token == "}":
                raise CorefileError(line, "unexpected }")
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
                    opened.append(line)
                    depth += 1
                elif token == "}":
                    opened.pop()
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
                    opened.append(line)
                    depth += 1
                elif token == "}":
                    opened.pop()
                    if plugins:
                        plugins[-1] = replace(plugins[-1], options=tuple(options))
                    options = []
                    depth -= 1
            else:
                option.append((token, line))
        else:
            if token == "{":
                opened.append(line)
                depth += 1
            elif token == "}":
                opened.pop()
                depth -= 1
    if depth:
        raise CorefileError(opened[-1], "unbalanced braces: the block opened here is not closed")
    if keys:
        # Caddy's format lets a single server block go without braces; its plugins would be read
        # as keys here, so say so rather than guess.
        raise CorefileError(key_line, f"a server block without braces ({' '.join(keys)[:60]}); not read")
    return blocks
