"""Property-based tests of every parser of untrusted input (hypothesis).

For each parser: it never raises anything but its own error type, whatever the text; what it
reads from generated well-formed input is what was written, at the line it was written on; and
CRLF line breaks give the same result as LF. Runs are bounded (``max_examples``, no deadline, no
example database written into the repository) so that the suite stays fast.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kupgrade_lint.parsers.corefile import CorefileError, parse_corefile
from kupgrade_lint.parsers.envfile import MAX_VALUE_CHARS, read_env_file
from kupgrade_lint.parsers.flags import parse_feature_gates, parse_flags
from kupgrade_lint.parsers.promql import analyse
from kupgrade_lint.parsers.quantity import parse_quantity
from kupgrade_lint.parsers.systemd import UnitError, expand_exec_start, merge_service, parse_unit
from kupgrade_lint.parsers.usage import parse_audit_log, parse_deprecated_api_metric
from kupgrade_lint.parsers.words import Origin, Word
from kupgrade_lint.parsers.yaml_documents import YamlError, load_documents, read_documents

bounded = settings(max_examples=50, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
# Values without quotes, escapes, comments, expansions or blanks at the ends: read back verbatim.
plain_values = st.from_regex(r"[A-Za-z0-9=.,:/-]{0,12}", fullmatch=True)
hostile_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=300) | st.text(alphabet="\"'\\$#;={}[]()\n\r\t -:*&!|>a1", max_size=300)


def crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


# -- env files ------------------------------------------------------------------------------

@bounded
@given(hostile_text)
def test_env_file_never_raises_and_reports_lines_inside_the_file(text: str):
    env = read_env_file(text, "f")
    lines = text.count("\n") + 1
    assert all(1 <= p.line <= lines for p in env.problems)
    assert all(len(v.value.text) <= MAX_VALUE_CHARS for v in env.variables)
    assert all(1 <= v.line <= lines for v in env.variables)


@bounded
@given(st.lists(st.one_of(st.tuples(names, plain_values), st.just("# a comment"), st.just("not an assignment"), st.just("")), max_size=12))
def test_env_file_reads_every_good_line_at_its_line_and_reports_every_bad_one(rows):
    text = "".join((f"{r[0]}={r[1]}" if isinstance(r, tuple) else r) + "\n" for r in rows)
    env = read_env_file(text, "f")
    assert [(v.name, v.value.text, v.line) for v in env.variables] == [(r[0], r[1], i + 1) for i, r in enumerate(rows) if isinstance(r, tuple)]
    assert [p.line for p in env.problems] == [i + 1 for i, r in enumerate(rows) if r == "not an assignment"]
    assert all(set(v.value.lines) <= {v.line} for v in env.variables)
    again = read_env_file(crlf(text), "f")
    assert [(v.name, v.value.text, v.line) for v in again.variables] == [(v.name, v.value.text, v.line) for v in env.variables]
    assert [p.line for p in again.problems] == [p.line for p in env.problems]


@bounded
@given(st.integers(min_value=1, max_value=40), st.integers(min_value=1, max_value=8))
def test_env_expansion_stays_within_its_limit(refs: int, lines: int):
    text = "A=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n" + f"A={'$A' * refs}\n" * lines
    env = read_env_file(text, "f")
    assert all(len(v.value.text) <= MAX_VALUE_CHARS for v in env.variables)
    expected_length = 32 * refs ** lines
    assert bool(env.problems) == (expected_length > MAX_VALUE_CHARS)


# -- systemd units ---------------------------------------------------------------------------

@bounded
@given(hostile_text)
def test_unit_parsing_never_raises_and_crlf_is_lf(text: str):
    directives = parse_unit(text, "u")
    assert [(d.section, d.key, d.value.text, d.line) for d in directives] == [
        (d.section, d.key, d.value.text, d.line) for d in parse_unit(crlf(text), "u")
    ]
    service = merge_service([("u", directives)])
    if service.exec_start is not None:
        try:
            expand_exec_start(service.exec_start, {})
        except UnitError:
            pass


@bounded
@given(st.lists(st.tuples(st.from_regex(r"[A-Z][A-Za-z]{0,8}", fullmatch=True), plain_values), max_size=10))
def test_unit_directives_are_read_at_their_lines(rows):
    text = "[Service]\n" + "".join(f"{k}={v}\n" for k, v in rows)
    assert [(d.section, d.key, d.value.text, d.line) for d in parse_unit(text, "u")] == [
        ("Service", k, v, i + 2) for i, (k, v) in enumerate(rows)
    ]


@bounded
@given(st.lists(st.from_regex(r"--[a-z][a-z-]{0,10}=[a-z0-9]{1,5}", fullmatch=True), min_size=1, max_size=8))
def test_exec_start_words_through_a_variable_keep_their_origin(flags):
    directives = parse_unit("[Service]\nEnvironment=\"ARGS=" + " ".join(flags) + "\"\nExecStart=/bin/kubelet $ARGS --last=1\n", "u")
    service = merge_service([("u", directives)])
    from kupgrade_lint.parsers.systemd import parse_environment_directive

    env = dict(parse_environment_directive(service.environment[0]))
    words = expand_exec_start(service.exec_start, env)
    assert [w.text for w in words] == ["/bin/kubelet", *flags, "--last=1"]
    assert all(w.via_variable == "ARGS" and w.via == Origin("u", 3) for w in words[1:-1])


# -- flags and feature gates -------------------------------------------------------------------

def _words(texts):
    return [Word(t, Origin("f", i + 1)) for i, t in enumerate(texts)]


@bounded
@given(st.lists(st.text(max_size=20), max_size=20))
def test_flags_never_raise_and_each_flag_word_is_one_use(texts):
    uses = parse_flags(_words(texts))
    assert len(uses) <= len(texts)
    assert all(u.word.text.startswith("-") for u in uses)


@bounded
@given(st.dictionaries(st.from_regex(r"[a-z][a-z-]{0,10}", fullmatch=True), plain_values.filter(lambda v: not v.startswith("-")), max_size=8))
def test_name_value_flags_read_back(flags):
    uses = parse_flags(_words([f"--{k}={v}" for k, v in flags.items()]))
    assert [(u.name, u.value) for u in uses] == list(flags.items())


@bounded
@given(st.dictionaries(st.from_regex(r"[A-Z][A-Za-z0-9]{0,15}", fullmatch=True), st.sampled_from(["true", "false"]), max_size=8))
def test_feature_gate_strings_round_trip(gates):
    assert parse_feature_gates(",".join(f"{k}={v}" for k, v in gates.items())) == list(gates.items())
    assert parse_feature_gates(" , ".join(f" {k} = {v} " for k, v in gates.items())) == list(gates.items())


@bounded
@given(st.text(max_size=100))
def test_feature_gate_parsing_never_raises(text):
    assert all(isinstance(name, str) for name, _ in parse_feature_gates(text))


# -- Corefiles -------------------------------------------------------------------------------

@bounded
@given(hostile_text)
def test_corefile_raises_only_its_own_error_and_crlf_is_lf(text: str):
    try:
        blocks = parse_corefile(text)
    except CorefileError as exc:
        assert 1 <= exc.line <= text.count("\n") + text.count("\r") + 1
        try:
            parse_corefile(crlf(text))
        except CorefileError as again:
            assert again.line == exc.line
        else:
            raise AssertionError("CRLF parsed where LF did not")
        return
    assert parse_corefile(crlf(text)) == blocks


plugins = st.lists(st.tuples(st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True), st.lists(st.from_regex(r"[a-z0-9.:]{1,6}", fullmatch=True), max_size=3)), max_size=6)


@bounded
@given(st.lists(plugins, min_size=1, max_size=3))
def test_corefile_plugins_are_read_at_their_lines(blocks):
    text, expected, line = "", [], 1
    for index, block in enumerate(blocks):
        text += f"zone{index}.:53 {{\n"
        block_line = line
        line += 1
        wanted = []
        for name, args in block:
            text += f"    {name} {' '.join(args)}\n"
            wanted.append((name, tuple(args), line))
            line += 1
        text += "}\n"
        line += 1
        expected.append((block_line, wanted))
    parsed = parse_corefile(text)
    assert [(b.line, [(p.name, p.args, p.line) for p in b.plugins]) for b in parsed] == expected


# -- PromQL ----------------------------------------------------------------------------------

@bounded
@given(hostile_text)
def test_promql_never_raises(text: str):
    use = analyse(text)
    assert isinstance(use.labels, frozenset) and isinstance(use.metrics, frozenset)


metric_names = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True).filter(lambda n: n not in ("by", "on", "and", "or", "bool", "offset", "sum", "min", "max", "avg",
                                                                                                    "group", "count", "without", "ignoring", "unless", "topk", "bottomk",
                                                                                                    "quantile", "stddev", "stdvar", "inf", "nan", "start", "end", "atan2",
                                                                                                    "group_left", "group_right", "count_values"))


@bounded
@given(metric_names, st.from_regex(r"[a-z][a-z_]{0,10}", fullmatch=True), st.from_regex(r"[a-z_]{1,10}", fullmatch=True), st.integers(min_value=0, max_value=20))
def test_promql_selectors_and_nested_label_replace(metric, label, inside, depth):
    expr = f'sum by ({label}) (rate({metric}{{{label}!="x", other="{inside}_total"}}[5m]))'
    for _ in range(depth):
        expr = f'label_replace({expr}, "dst", "$1", "{label}", "(.*)")'
    use = analyse(expr)
    assert metric in use.metrics and label in use.labels and "other" in use.labels
    assert f"{inside}_total" not in use.metrics  # a string is not a metric
    assert ("dst" in use.labels) == (depth > 0)


# -- the YAML line index ---------------------------------------------------------------------

# Keys and scalars that YAML 1.1 reads as strings (no y/n/on/off, no numbers).
keys = st.text(alphabet="abcdefgkmz", min_size=2, max_size=6)
trees = st.recursive(
    st.text(alphabet="abcdkz -", min_size=1, max_size=8).map(lambda v: v.strip() or "v"),
    lambda children: st.dictionaries(keys, children, min_size=1, max_size=4) | st.lists(children, min_size=1, max_size=3),
    max_leaves=12,
)


def _emit(node, indent: int, path: tuple, lines: list[str], where: dict) -> None:
    """Block YAML of ``node``, recording the line each path is written on."""
    pad = "  " * indent
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        head = f"{pad}{key}:" if isinstance(node, dict) else f"{pad}-"
        # A key's line is where the key is; a list item's is where its content starts.
        below = isinstance(node, list) and isinstance(value, (dict, list))
        where[path + (key,)] = len(lines) + 1 + below
        if isinstance(value, (dict, list)):
            lines.append(head)
            _emit(value, indent + 1, path + (key,), lines, where)
        else:
            lines.append(f"{head} {value!r}".replace("'", '"'))


def emit(tree) -> str:
    lines: list[str] = []
    _emit(tree, 0, (), lines, {})
    return "\n".join(lines) + "\n"


@bounded
@given(st.dictionaries(keys, trees, min_size=1, max_size=5), st.integers(min_value=0, max_value=3), st.booleans())
def test_line_of_a_path_is_the_line_its_key_is_written_on(tree, leading_comments, windows):
    lines = ["# comment"] * leading_comments
    where: dict = {}
    _emit(tree, 0, (), lines, where)
    text = "\n".join(lines) + "\n"
    if windows:
        text = crlf(text)
    (doc,) = read_documents(text)
    assert doc.data == tree
    for path, line in where.items():
        assert doc.line_of(path) == line, (path, text)
    assert doc.start_line == leading_comments + 1


@settings(bounded, max_examples=30)
@given(st.lists(st.dictionaries(keys, trees, min_size=1, max_size=3), min_size=1, max_size=4))
def test_documents_of_a_stream_and_their_lines_are_the_same_with_crlf(docs):
    text = "".join("---\n" + emit(d) for d in docs)
    lf, windows = read_documents(text), read_documents(crlf(text))
    assert [d.data for d in lf] == [d.data for d in windows] == docs
    assert [d.start_line for d in lf] == [d.start_line for d in windows]
    for a, b in zip(lf, windows):
        assert a.lines == b.lines


@bounded
@given(hostile_text)
def test_yaml_reading_never_raises_and_all_or_nothing_raises_only_yaml_error(text: str):
    docs = read_documents(text)
    assert all(isinstance(p, YamlError) for p in docs.problems)
    for doc in docs:
        doc.line_of(("a", 0, "b"))
    try:
        load_documents(text)
    except YamlError:
        assert docs.problems


@settings(bounded, max_examples=30)
@given(st.lists(st.dictionaries(keys, trees, min_size=1, max_size=3), min_size=2, max_size=4), st.data())
def test_a_broken_document_costs_only_itself(docs, data):
    broken = data.draw(st.integers(min_value=0, max_value=len(docs) - 1))
    parts = [emit(d) for d in docs]
    parts[broken] = "key: [unclosed\n"
    result = read_documents("".join("---\n" + p for p in parts))
    assert [d.data for d in result] == [d for i, d in enumerate(docs) if i != broken]
    assert len(result.problems) == 1
    assert result.problems[0].line == sum(p.count("\n") + 1 for p in parts[:broken]) + 2


# -- quantities and usage evidence -----------------------------------------------------------

@bounded
@given(st.text(max_size=40) | st.from_regex(r"[+-]?[0-9.]{1,30}(e[+-]?[0-9]{1,12})?(Ki|Mi|m|k|E)?", fullmatch=True))
def test_quantities_never_raise(text: str):
    parse_quantity(text)


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                           lambda c: st.lists(c, max_size=3) | st.dictionaries(st.sampled_from(["objectRef", "resource", "apiVersion", "apiGroup", "user", "userAgent", "stage", "username"]), c, max_size=4),
                           max_leaves=12)


@bounded
@given(st.lists(json_values, max_size=6), hostile_text)
def test_audit_logs_and_metrics_never_raise(events, noise):
    import json

    text = "\n".join(json.dumps(e) for e in events) + "\n" + noise + "\n" + "[" * 5000 + "]" * 5000
    uses, bad = parse_audit_log(text)
    assert text.count("\n") + 1 in bad  # the line nested too deep
    parse_deprecated_api_metric(noise)
    assert all(isinstance(u.resource, str) for u in uses)


def test_no_example_database_is_written():
    assert bounded.database is None and re.match(r"\d+", str(bounded.max_examples))


def _emit_json(node, path: tuple, lines: list[str], where: dict) -> None:
    """Indented JSON of ``node`` (each key and item on a line of its own), recording the lines."""
    opener, closer = ("{", "}") if isinstance(node, dict) else ("[", "]")
    lines[-1] += opener
    items = list(node.items() if isinstance(node, dict) else enumerate(node))
    for index, (key, value) in enumerate(items):
        prefix = f'"{key}": ' if isinstance(node, dict) else ""
        lines.append(prefix)
        where[path + (key,)] = len(lines)
        if isinstance(value, (dict, list)):
            _emit_json(value, path + (key,), lines, where)
        else:
            lines[-1] += f'"{value}"'
        if index < len(items) - 1:
            lines[-1] += ","
    lines.append(closer)


@bounded
@given(st.dictionaries(keys, trees, min_size=1, max_size=5), st.booleans())
def test_json_line_of_a_path_is_the_line_its_key_is_written_on(tree, windows):
    lines, where = [""], {}
    _emit_json(tree, (), lines, where)
    text = "\n".join(lines) + "\n"
    (doc,) = read_documents(crlf(text) if windows else text)
    assert doc.data == tree
    # Both ways of finding a line: the walk down one path, and the index of a view (a List item).
    for path, line in where.items():
        assert doc.line_of(path) == line, (path, text)
    for key, value in tree.items():
        if isinstance(value, (dict, list)):
            view = doc.view((key,))
            for path, line in where.items():
                if path[:1] == (key,) and len(path) > 1:
                    assert view.line_of(path[1:]) == line, (path, text)
