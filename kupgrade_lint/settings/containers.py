"""Flags in a container's command and args, each with its path in the object."""

from __future__ import annotations

from typing import Iterator

from kupgrade_lint.parsers.flags import FlagUse, parse_flags
from kupgrade_lint.parsers.words import Origin, Word
from kupgrade_lint.snapshot.model import KubeObject


def container_flag_uses(obj: KubeObject, ci: int, container: dict, prefix: tuple = ("spec",)) -> Iterator[tuple[FlagUse, tuple]]:
    words: list[Word] = []
    paths: dict[int, tuple] = {}
    for key in ("command", "args"):
        items = container.get(key) or []
        for i, item in enumerate(items):
            if not isinstance(item, str):
                continue
            path = prefix + ("containers", ci, key, i)
            # A shell-form command ("sh -c 'kube-proxy --x'") is not parsed as flags.
            for w in item.split() if key == "command" and i > 0 and " " in item else [item]:
                word = Word(w, Origin(obj.source.file, obj.line(*path)))
                paths[id(word)] = path
                words.append(word)
    if words and not words[0].text.startswith("-"):
        words = words[1:]
    for use in parse_flags(words):
        yield use, paths.get(id(use.word), prefix + ("containers", ci))
