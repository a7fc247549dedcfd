"""kubelet flags on a node: its systemd unit and drop-ins, and the env files they expand.

kubespray renders ``kubelet.env`` and the unit from its own templates and kubeadm writes
``kubeadm-flags.env``; both are read as the files they are, whatever tool wrote them.
"""

from __future__ import annotations

import functools

from kupgrade_lint.findings import Location
from kupgrade_lint.parsers import envfile, systemd
from kupgrade_lint.parsers.flags import FlagUse, parse_flags
from kupgrade_lint.parsers.systemd import UnitError, expand_exec_start, merge_service, parse_environment_directive
from kupgrade_lint.parsers.words import TracedText, Word
from kupgrade_lint.settings.model import FlagSetting
from kupgrade_lint.snapshot.model import InputProblem, Snapshot

# Where systemd looks for units, highest priority first (systemd.unit(5), "Unit File Load Path").
UNIT_DIRS = ("/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system")
# Env files kubelets read when no unit is in the snapshot to say so.
KUBELET_ENV_FILES = ("/etc/kubernetes/kubelet.env", "/var/lib/kubelet/kubeadm-flags.env", "/etc/default/kubelet", "/etc/sysconfig/kubelet")
KUBEADM_FLAGS_ENV = "/var/lib/kubelet/kubeadm-flags.env"


# Nodes of a cluster mostly carry the same unit and env files: each distinct (text, path) is
# parsed once. The results are frozen and only read; a unit that raises is not kept.
@functools.lru_cache(maxsize=32)
def read_env_file(text: str, path: str) -> envfile.EnvFile:
    return envfile.read_env_file(text, path)


@functools.lru_cache(maxsize=32)
def parse_unit(text: str, path: str) -> list[systemd.Directive]:
    return systemd.parse_unit(text, path)


def kubelet_flags(snapshot: Snapshot, node: str, problems: list[InputProblem]) -> list[FlagSetting]:
    """The kubelet's command line on ``node``, each flag traced to the file and line that sets it."""
    files = snapshot.node_files[node]
    main_unit = next((f"{d}/kubelet.service" for d in UNIT_DIRS if f"{d}/kubelet.service" in files), None)
    dropins: dict[str, str] = {}
    for d in reversed(UNIT_DIRS):  # higher priority dirs mask same-named drop-ins
        prefix = f"{d}/kubelet.service.d/"
        for path in files:
            if path.startswith(prefix) and path.endswith(".conf") and "/" not in path[len(prefix):]:
                dropins[path[len(prefix):]] = path
    if main_unit is None and not dropins:
        return _env_fallback(snapshot, node, problems)
    unit_paths = ([main_unit] if main_unit else []) + [dropins[name] for name in sorted(dropins)]
    parsed_units = []
    for p in unit_paths:
        try:
            parsed_units.append((p, parse_unit(files[p].text, p)))
        except UnitError as exc:
            problems.append(InputProblem(p, exc.message, node=node, line=exc.line))
    service = merge_service(parsed_units)
    env: dict[str, TracedText] = {}
    for directive in service.environment:
        env.update(dict(parse_environment_directive(directive)))
    for path, optional, directive in service.environment_files:
        nf = files.get(path)
        if nf is None:
            if not optional:
                problems.append(InputProblem(directive.value.file, f"EnvironmentFile {path} is not in the snapshot", node=node, line=directive.line))
            continue
        env_file = read_env_file(nf.text, path)
        for exc in env_file.problems:  # a bad line is skipped, as systemd skips it; the rest is read
            problems.append(InputProblem(path, exc.message, node=node, line=exc.line))
        for var in env_file.variables:
            env[var.name] = var.value
    if service.exec_start is None:
        problems.append(InputProblem(unit_paths[-1], "kubelet unit has no ExecStart; kubelet flags not checked", node=node))
        return []
    try:
        words = expand_exec_start(service.exec_start, env)
    except UnitError as exc:
        problems.append(InputProblem(service.exec_start.value.file, f"{exc.message}; kubelet flags not checked", node=node, line=exc.line))
        return []
    names: dict[str, list[str]] = {}
    uses = parse_flags(words[1:])
    for use in uses:
        if use.word.via_variable:
            names.setdefault(use.word.via_variable, []).append(use.name)
    # One tuple per variable, shared by its flags (a tuple per flag is quadratic in memory).
    per_variable = {variable: tuple(flag_names) for variable, flag_names in names.items()}
    flags = [flag_from_word("kubelet", use, node, "kubelet command line", per_variable) for use in uses]
    config_path = next((u.value for u in uses if u.name == "config" and u.value), None)
    if config_path and config_path not in files:
        problems.append(InputProblem(config_path, "the kubelet's --config file is not in the snapshot; its settings were not checked", node=node))
    return flags


def _env_fallback(snapshot: Snapshot, node: str, problems: list[InputProblem]) -> list[FlagSetting]:
    files = snapshot.node_files[node]
    flags: list[FlagSetting] = []
    for path in KUBELET_ENV_FILES:
        nf = files.get(path)
        if nf is None:
            continue
        env_file = read_env_file(nf.text, path)
        for exc in env_file.problems:
            problems.append(InputProblem(path, exc.message, node=node, line=exc.line))
        for var in env_file.variables:
            for use in parse_flags(var.value.split()):
                flags.append(flag_from_word("kubelet", use, node, f"{var.name} in {path}", {}))
    return flags


def flag_from_word(component: str, use: FlagUse, node: str | None, place: str, per_variable: dict[str, tuple[str, ...]]) -> FlagSetting:
    word: Word = use.word
    location = Location(file=word.origin.file, line=word.origin.line, node=node)
    via = Location(file=word.via.file, line=word.via.line, node=node) if word.via else None
    return FlagSetting(
        component,
        use.name,
        use.value,
        location,
        place,
        via=via,
        via_variable=word.via_variable,
        variable_flags=per_variable.get(word.via_variable or "", ()),
    )
