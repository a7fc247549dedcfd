"""The optional config file (``.kupgrade-lint.yaml``): defaults for options, extra catalogs, suppressions."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from kupgrade_lint.errors import InputError
from kupgrade_lint.parsers.yaml_documents import YamlError, load_data

DEFAULT_NAME = ".kupgrade-lint.yaml"


@dataclass(frozen=True)
class SuppressionRule:
    """Suppress findings of a rule (id or name) where every given matcher matches; ``reason`` is required."""

    rule: str
    reason: str
    origin: str
    hop: str | None = None
    file: str | None = None
    node: str | None = None
    kind: str | None = None
    namespace: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class Config:
    """Settings read from the config file; command-line options win over them."""

    path: str | None = None
    fail_on: str | None = None
    kubelet_strategy: str | None = None
    catalog: tuple[Path, ...] = ()
    suppress: tuple[SuppressionRule, ...] = field(default_factory=tuple)


def _schema() -> dict:
    return json.loads(resources.files("kupgrade_lint").joinpath("schemas/config.schema.json").read_text(encoding="utf-8"))


def load_config(path: Path | None) -> Config:
    """Read ``path``, or ``.kupgrade-lint.yaml`` in the working directory when it exists; else defaults."""
    if path is None:
        default = Path(DEFAULT_NAME)
        if not default.is_file():
            return Config()
        path = default
    # Read with the loader's limits (aliases, depth, size): the file in the working directory is
    # read automatically, so it may come from whoever wrote the repository being checked.
    try:
        data = load_data(Path(path).read_bytes().decode("utf-8")) or {}
    except OSError as exc:
        raise InputError(f"{path}: cannot read the config file: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: the config file is not UTF-8 text") from None
    except YamlError as exc:
        raise InputError(f"{path}{':' + str(exc.line) if exc.line else ''}: the config file: {exc.message}") from None
    import jsonschema  # lazy: only a scan with a config file pays for it

    errors = sorted(jsonschema.Draft202012Validator(_schema()).iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "(top level)"
        raise InputError(f"{path}: {where}: {errors[0].message}")
    base = Path(path).parent
    suppress = tuple(
        SuppressionRule(origin=f"{path} suppress[{i}]", **item) for i, item in enumerate(data.get("suppress", []))
    )
    return Config(
        path=str(path),
        fail_on=data.get("fail_on"),
        kubelet_strategy=data.get("kubelet_strategy"),
        catalog=tuple(base / c for c in data.get("catalog", [])),
        suppress=suppress,
    )
