"""Reporters: pure functions that render a finished Report to a text stream, chosen from one table."""

from __future__ import annotations

from typing import Callable, TextIO

from kupgrade_lint.findings import Report
from kupgrade_lint.reporters import github, json_report, junit, markdown, sarif, text

Renderer = Callable[[Report, TextIO, bool], None]

RENDERERS: dict[str, Renderer] = {
    "text": text.render,
    "json": json_report.render,
    "sarif": sarif.render,
    "markdown": markdown.render,
    "junit": junit.render,
    "github": github.render,
}
