"""The in-memory snapshot: Kubernetes objects, node files, registry contents, certificates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, TypeVar

from kupgrade_lint.findings import Location
from kupgrade_lint.parsers.yaml_documents import Document


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Source:
    """Where an object was read: a file of the input, and what kind of input that was.

    ``origin``: ``cluster`` (a snapshot's cluster/), ``helm`` (a Helm release's rendered manifest),
    ``manifest`` (--manifests), ``node`` (a node file, e.g. a static pod manifest).
    """

    file: str
    origin: str
    node: str | None = None
    helm_release: str | None = None


@dataclass(frozen=True, slots=True)  # slots: a repository or cluster holds 100,000s of them
class KubeObject:
    """One Kubernetes object and where it came from (``prefix`` locates a ``kind: List`` item)."""

    data: dict
    source: Source
    document: Document
    prefix: tuple = ()

    @property
    def subject_key(self) -> tuple:
        """Identifies this object while a check handles it (see ``Snapshot.track``)."""
        return ("object", id(self))

    def subject_location(self) -> Location:
        return self.location()

    @property
    def api_version(self) -> str:
        return str(self.data.get("apiVersion", ""))

    @property
    def kind(self) -> str:
        return str(self.data.get("kind", ""))

    @property
    def metadata(self) -> dict:
        meta = self.data.get("metadata")
        return meta if isinstance(meta, dict) else {}

    @property
    def name(self) -> str:
        return str(self.metadata.get("name", ""))

    @property
    def namespace(self) -> str | None:
        ns = self.metadata.get("namespace")
        return str(ns) if ns else None

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    def line(self, *path: Any) -> int:
        return self.document.line_of(self.prefix + tuple(path))

    def content_line(self, path: tuple, offset: int) -> int:
        return self.document.content_line(self.prefix + tuple(path), offset)

    def location(self, *path: Any, line: int | None = None, field_path: str | None = None) -> Location:
        """Location of this object (and of ``path`` inside it, for the line and column).

        A ``line`` given by the caller (inside an embedded text) has no column.
        """
        column = None
        if line is None:
            line, column = self.document.position_of(self.prefix + tuple(path))
        return Location(
            file=self.source.file,
            line=line,
            column=column,
            node=self.source.node,
            api_version=self.api_version or None,
            kind=self.kind or None,
            namespace=self.namespace,
            name=self.name or None,
            field=field_path if field_path is not None else _dotted(path),
        )


def _dotted(path: tuple) -> str | None:
    if not path:
        return None
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


@dataclass(frozen=True)
class NodeFile:
    """A file copied from a node, at its absolute path there."""

    node: str
    path: str
    text: str


@dataclass(frozen=True)
class InputProblem:
    """Something of the input that could not be read or checked; becomes a ``collection`` finding."""

    file: str | None
    message: str
    node: str | None = None
    line: int | None = None


@dataclass
class Snapshot:
    """Everything a scan judges. Built by the loader; the checks only read it."""

    objects: list[KubeObject] = field(default_factory=list)
    node_files: dict[str, dict[str, NodeFile]] = field(default_factory=dict)
    registry: dict[str, frozenset[str]] = field(default_factory=dict)
    registry_hosts: set[str] = field(default_factory=set)
    # name -> tag -> what the registry answered for that manifest (registry/<name>/manifests.json)
    registry_manifests: dict[str, dict[str, dict]] = field(default_factory=dict)
    tls: dict[str, tuple[str, str]] = field(default_factory=dict)
    metrics: dict[str, str] = field(default_factory=dict)
    audit_logs: dict[str, tuple[str, str]] = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)
    problems: list[InputProblem] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    # Kustomize's own files met in a --manifests directory: skipped (not objects), named in the coverage.
    kustomizations: list[str] = field(default_factory=list)
    keep_alive: list = field(default_factory=list)  # e.g. the directory a .tar.gz was unpacked into
    root: str | None = None  # the --snapshot path as given: the files of cluster objects and nodes are relative to it
    _kind_index: tuple[int, dict, dict] | None = field(default=None, repr=False)  # (objects indexed, kind -> objects, kind -> their positions)
    _name_index: tuple[int, dict] | None = field(default=None, repr=False)  # kind -> (namespace, name) -> objects, for find
    _handed: dict = field(default_factory=dict, repr=False)  # id of what was handed out -> when
    _held: list = field(default_factory=list, repr=False)
    _originals: dict = field(default_factory=dict, repr=False)
    _tick: int = field(default=0, repr=False)
    _excluded: frozenset = field(default=frozenset(), repr=False)
    _substitute: dict = field(default_factory=dict, repr=False)

    # -- which object is being handled: the engine's isolation of checks (engine.run_isolated) ---
    def track(self, items: Iterable[T]) -> Iterator[T]:
        """Yield ``items``, leaving out excluded ones and remembering when each was handed out.

        Items are objects with ``subject_key`` and ``subject_location()`` (Kubernetes objects,
        embedded configuration documents). When a check raises, the engine looks for handed-out
        items among the local variables of the failing frames (``handed``): the innermost frame
        that holds one, and there the one handed out last, is the item being handled.
        """
        if not self._excluded and not self._substitute:
            # The common case, kept cheap (it runs for every object of every check): no key to
            # build, nothing to replace; the same bookkeeping as ``_hand_out``.
            handed, held = self._handed, self._held
            for item in items:
                self._tick += 1
                key = id(item)
                if key not in handed:
                    held.append(item)
                handed[key] = self._tick
                yield item
            return
        for item in items:
            key = item.subject_key
            if key in self._excluded:
                continue
            yield self._hand_out(item)

    def _hand_out(self, item):
        # Per item only an int (not tracked by the cyclic collector) and, the first time, a list
        # slot: the list keeps each item alive so that its id() names it until the stage ends; a
        # substitute is kept alive by ``_substitute`` and remembers its item in ``_originals``.
        out = self._substitute.get(item.subject_key, item) if self._substitute else item
        self._tick += 1
        if id(out) not in self._handed:
            self._held.append(item)
        self._handed[id(out)] = self._tick
        if out is not item:
            self._originals[id(out)] = item
        return out

    def handed(self, value) -> tuple[int, Any] | None:
        """(when, item) if ``value`` was handed out by ``track`` or ``find`` during this stage."""
        tick = self._handed.get(id(value))
        if tick is None:
            return None
        return tick, self._originals.get(id(value), value)

    def begin_stage(self, excluded: frozenset = frozenset(), substitute: dict | None = None) -> None:
        """Start a run of one check: nothing handed out yet, these keys left out, these items replaced."""
        self._handed = {}
        self._held = []
        self._originals = {}
        self._excluded = excluded
        self._substitute = substitute or {}

    def all_objects(self) -> Iterator[KubeObject]:
        """Every object, in input order (tracked like ``of_kind``)."""
        return self.track(self.objects)

    def _by_kind(self) -> dict[str, list[KubeObject]]:
        # Built on first use and again only if objects were added since (the loader appends).
        if self._kind_index is None or self._kind_index[0] != len(self.objects):
            index: dict[str, list[KubeObject]] = {}
            positions: dict[str, list[int]] = {}
            for position, obj in enumerate(self.objects):
                kind = obj.kind
                index.setdefault(kind, []).append(obj)
                positions.setdefault(kind, []).append(position)
            self._kind_index = (len(self.objects), index, positions)
        return self._kind_index[1]

    def of_kind(self, *kinds: str, origins: tuple[str, ...] | None = None) -> Iterator[KubeObject]:
        """Objects of these kinds, kind by kind in input order (optionally only from some kinds of input); tracked."""
        index = self._by_kind()
        return self.track(
            obj for kind in kinds for obj in index.get(kind, ()) if origins is None or obj.source.origin in origins
        )

    def in_input_order(self, *kinds: str) -> Iterator[KubeObject]:
        """Objects of these kinds in input order (kinds interleaved as they came), tracked like ``all_objects``."""
        index = self._by_kind()
        present = [kind for kind in dict.fromkeys(kinds) if index.get(kind)]
        if len(present) <= 1:
            return self.track(index[present[0]] if present else ())
        import heapq

        positions = self._kind_index[2]  # type: ignore[index]
        merged = heapq.merge(*(zip(positions[kind], index[kind]) for kind in present), key=lambda pair: pair[0])
        return self.track(obj for _, obj in merged)

    def find(self, kind: str, namespace: str | None, name: str) -> KubeObject | None:
        """The object of that kind, namespace and name; one read from the cluster wins over a manifest."""
        if self._name_index is None or self._name_index[0] != len(self.objects):
            self._name_index = (len(self.objects), {})
        names = self._name_index[1].get(kind)
        if names is None:  # each kind indexed on its first look-up, not every object of every kind
            names = self._name_index[1][kind] = {}
            for obj in self._by_kind().get(kind, ()):
                names.setdefault((obj.namespace, obj.name), []).append(obj)
        same = names.get((namespace, name), ())
        matches = [o for o in same if o.subject_key not in self._excluded] if self._excluded else list(same)
        found = next((o for o in matches if o.source.origin == "cluster"), matches[0] if matches else None)
        return self._hand_out(found) if found is not None else None

    def node_file(self, node: str, path: str) -> NodeFile | None:
        return self.node_files.get(node, {}).get(path)
