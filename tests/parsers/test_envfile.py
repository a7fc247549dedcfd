"""Env files as systemd's EnvironmentFile= and a sourcing shell read them."""

from __future__ import annotations

import pytest

from kupgrade_lint.parsers.envfile import EnvFileError, as_dict, parse_env_file

F = "/etc/kubernetes/kubelet.env"


def values(text: str) -> dict[str, str]:
    return {name: var.value.text for name, var in as_dict(parse_env_file(text, F)).items()}


def test_quotes_comments_and_blank_lines() -> None:
    text = (
        "# logging to stderr means we get it in the systemd journal\n"
        "\n"
        'KUBE_LOGTOSTDERR="--logtostderr=true"\n'
        "; ini-style comment\n"
        "KUBE_LOG_LEVEL='--v=2 $NOT_EXPANDED'\n"
        "PLAIN=--max-pods=110   # trailing comment\n"
        "export EXPORTED=yes\n"
        'EMPTY=""\n'
    )
    assert values(text) == {
        "KUBE_LOGTOSTDERR": "--logtostderr=true",
        "KUBE_LOG_LEVEL": "--v=2 $NOT_EXPANDED",
        "PLAIN": "--max-pods=110",
        "EXPORTED": "yes",
        "EMPTY": "",
    }


def test_escapes_inside_and_outside_double_quotes() -> None:
    assert values('A="say \\"hi\\" \\\\ \\$HOME"\nB=one\\ word\n') == {"A": 'say "hi" \\ $HOME', "B": "one word"}


def test_hash_inside_a_word_is_not_a_comment() -> None:
    assert values("A=--label=a#b\n") == {"A": "--label=a#b"}


def test_continuation_lines_inside_double_quotes_keep_each_line() -> None:
    text = 'KUBE_LOG_LEVEL="--v=2"\nKUBELET_ARGS="--kubeconfig=/etc/kubernetes/kubelet.conf \\\n--allow-privileged=true \\\n--max-pods=110"\nNEXT=1\n'
    variables = parse_env_file(text, F)
    args = as_dict(variables)["KUBELET_ARGS"]
    assert args.line == 2
    assert args.value.text == "--kubeconfig=/etc/kubernetes/kubelet.conf --allow-privileged=true --max-pods=110"
    words = {w.text: w.origin.line for w in args.value.split()}
    assert words == {"--kubeconfig=/etc/kubernetes/kubelet.conf": 2, "--allow-privileged=true": 3, "--max-pods=110": 4}
    assert all(w.origin.file == F for w in args.value.split())
    assert as_dict(variables)["NEXT"].line == 5


def test_dollar_expansion_of_earlier_variables_keeps_their_lines() -> None:
    text = 'BASE="--v=2"\nA="$BASE --max-pods=110"\nB=${BASE}x\nC="$UNKNOWN-after"\nD=\'$BASE\'\n'
    result = as_dict(parse_env_file(text, F))
    assert result["A"].value.text == "--v=2 --max-pods=110"
    assert [(w.text, w.origin.line) for w in result["A"].value.split()] == [("--v=2", 1), ("--max-pods=110", 2)]
    assert result["B"].value.text == "--v=2x"
    assert result["C"].value.text == "-after"
    assert result["D"].value.text == "$BASE"


def test_later_assignment_wins() -> None:
    assert values("A=1\nA=2\n") == {"A": "2"}
    assert [v.name for v in parse_env_file("A=1\nA=2\n", F)] == ["A", "A"]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("A=1\nthis is not an assignment\n", 2, "not a KEY=VALUE assignment"),
        ('A=1\nB="--v=2 \\\n--max-pods=110\n', 2, 'unterminated " quote in the value of B'),
        ("A=1\n\nC='open\n", 3, "unterminated ' quote in the value of C"),
        ("1A=x\n", 1, "not a KEY=VALUE assignment"),
    ],
)
def test_errors_name_the_line(text: str, line: int, message: str) -> None:
    with pytest.raises(EnvFileError) as info:
        parse_env_file(text, F)
    assert info.value.line == line
    assert message in str(info.value)
    assert str(info.value).startswith(f"line {line}: ")


def test_a_bad_line_is_reported_and_the_other_lines_are_read() -> None:
    from kupgrade_lint.parsers.envfile import read_env_file

    env = read_env_file("A=1\nnot an assignment\n1B=2\nC=3\n", F)
    assert [(v.name, v.value.text, v.line) for v in env.variables] == [("A", "1", 1), ("C", "3", 4)]
    assert [(p.line, "skipped as systemd skips it" in p.message) for p in env.problems] == [(2, True), (3, True)]
    # The all-or-nothing reader still refuses the file at its first bad line.
    with pytest.raises(EnvFileError) as info:
        parse_env_file("A=1\nnot an assignment\n", F)
    assert info.value.line == 2


def test_bom_and_crlf_are_read_like_lf() -> None:
    text = 'A="--v=2"\nB=$A --x=1\n'
    for variant in ("\ufeff" + text, text.replace("\n", "\r\n")):
        assert values(variant) == values(text) == {"A": "--v=2", "B": "--v=2 --x=1"}


def test_a_value_over_the_exec_limit_is_reported_and_not_built() -> None:
    from kupgrade_lint.parsers.envfile import MAX_VALUE_CHARS, read_env_file

    text = "A=" + "x" * 1000 + "\n" + "".join(f"A={'$A' * 20}\n" for _ in range(6)) + "B=ok\n"
    env = read_env_file(text, F)
    # 1000 * 20 = 20,000 characters on line 2; 400,000 on line 3 exceed the limit; A is then unset.
    assert [(v.name, len(v.value.text)) for v in env.variables] == [("A", 1000), ("A", 20_000), ("A", 0), ("A", 0), ("A", 0), ("A", 0), ("B", 2)]
    assert [p.line for p in env.problems] == [3]
    assert f"more than {MAX_VALUE_CHARS:,} characters" in env.problems[0].message


def test_a_file_over_the_size_limit_is_one_problem() -> None:
    from kupgrade_lint.parsers.envfile import MAX_FILE_CHARS, read_env_file

    env = read_env_file("A=1\n" * (MAX_FILE_CHARS // 4 + 1), F)
    assert env.variables == [] and [p.line for p in env.problems] == [1]


def test_the_value_limit_clears_at_the_same_character_when_runs_are_read_whole(monkeypatch):
    from kupgrade_lint.parsers import envfile

    monkeypatch.setattr(envfile, "MAX_VALUE_CHARS", 5)
    # The value is cleared at its 6th character, inside the quotes: the "#" after them follows "f", so it is
    # no comment, and the quote opened after it runs to the end of the file.
    result = envfile.read_env_file("A=\t'=;BBAf'#x'y\nB=1\n", "f")
    assert [(p.line, p.message) for p in result.problems] == [(1, "unterminated ' quote in the value of A; the lines after it are part of that value")]
    assert result.variables == []


def test_runs_keep_the_line_of_every_character():
    from kupgrade_lint.parsers.envfile import read_env_file

    result = read_env_file('A="one two\\\n three"\nC=\'x\ny\'$A\n', "f")
    [a, c] = result.variables
    assert (a.value.text, a.value.lines, a.line) == ("one two three", (1,) * 7 + (2,) * 6, 1)
    assert (c.value.text, c.value.lines, c.line) == ("x\nyone two three", (3, 3, 4) + (1,) * 7 + (2,) * 6, 3)
