"""The contract every graded check keeps, asserted once for all exercises.

A check prints exactly one success line on a correct answer and nothing with
``hidden=True``; on a wrong answer it raises AssertionError saying what was expected
and giving a hint; on an unfinished exercise it says so.
"""

import re

import pytest


def assert_passes(check, fn, label, capsys, min_facts=1):
    """``check(fn)`` prints ``✓ label: n/n checks passed`` (n >= min_facts); hidden is silent."""
    check(fn)
    out = capsys.readouterr().out
    match = re.fullmatch(rf"✓ {re.escape(label)}: (\d+)/\1 checks passed\n", out)
    assert match, out
    assert int(match.group(1)) >= min_facts, f"{label} checks only {match.group(1)} fact(s)"
    check(fn, hidden=True)
    assert capsys.readouterr().out == "", "hidden tests must print nothing on success"


def assert_fails_with_hint(check, fn, needs_got=False):
    """``check(fn)`` raises AssertionError naming what was expected, with a hint."""
    with pytest.raises(AssertionError) as info:
        check(fn)
    message = str(info.value)
    assert "expected" in message and "\nHint: " in message, message
    if needs_got:
        assert "got" in message, message
    return message


def unfinished(*args, **kwargs):
    """An exercise as shipped."""
    raise NotImplementedError("write your code here, then run the check below")


def assert_unfinished_fails(check):
    """An unfinished exercise fails with a message that says so."""
    with pytest.raises(AssertionError, match="not implemented yet"):
        check(unfinished)
