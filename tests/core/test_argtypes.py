"""Counts on the command line: a clear message for a bad one, never a traceback."""

from __future__ import annotations

import pytest

from wxtui.cli.main import main


@pytest.mark.parametrize("argv, complaint", [
    (["sync", "--concurrency", "0"], "--concurrency: 0 must be more than 0"),
    (["sync", "--followers", "ten"], "--followers: 'ten' is not a whole number"),
    (["tag", "VIP", "--stdin", "--concurrency", "-3"], "--concurrency: -3 must be more than 0"),
    (["jobs", "list", "--limit", "0"], "--limit: 0 must be more than 0"),
    (["demo", "--followers", "1.5"], "--followers: '1.5' is not a whole number"),
])
def test_a_bad_count_is_refused_with_its_name(argv, complaint, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert complaint in capsys.readouterr().err


def test_counts_may_be_written_with_separators():
    from wxtui.cli.argtypes import positive_int

    assert [positive_int(t) for t in ("8", "100,000", "1_000_000")] == [8, 100_000, 1_000_000]
