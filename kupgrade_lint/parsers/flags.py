"""Command-line flags as Kubernetes components read them (spf13/pflag).

``--name=value``, ``--name value`` and bare boolean ``--name``; a single dash works too for
long names (pflag accepts ``-v=2`` only for shorthands, but kubespray and kubeadm never rely on
that, so single-dash long flags are read like double-dash ones).
"""

from __future__ import annotations

from dataclasses import dataclass

from kupgrade_lint.parsers.words import Word


@dataclass(frozen=True)
class FlagUse:
    """A flag as written: its name without dashes, its value (None for a bare flag) and its word."""

    name: str
    value: str | None
    word: Word


def parse_flags(words: list[Word]) -> list[FlagUse]:
    """Read flags from argv (the first word, the program, is not part of ``words``)."""
    flags: list[FlagUse] = []
    i = 0
    while i < len(words):
        word = words[i]
        text = word.text
        if text.startswith("-") and len(text) > 1 and text != "--":
            body = text.lstrip("-")
            if "=" in body:
                name, _, value = body.partition("=")
                flags.append(FlagUse(name, value, word))
            elif i + 1 < len(words) and not words[i + 1].text.startswith("-"):
                # Could be a bare boolean followed by a positional argument; kubelet and the
                # control-plane components take no positional arguments, so it is the value.
                flags.append(FlagUse(body, words[i + 1].text, word))
                i += 1
            else:
                flags.append(FlagUse(body, None, word))
        i += 1
    return flags


def parse_feature_gates(value: str) -> list[tuple[str, str]]:
    """``A=true,B=false`` → [("A", "true"), ("B", "false")]; a blank value has no gates."""
    gates = []
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        name, _, setting = part.partition("=")
        gates.append((name.strip(), setting.strip()))
    return gates
