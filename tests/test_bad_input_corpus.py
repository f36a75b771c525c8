"""A corpus of bad input, generated: argument strings, bytes for openid files, mutated caches and
mutated configs, each through the CLI in this process. Every case must end with a known exit
status, print no traceback and no raw control character, and leave the cache, the journal, the
config and the platform as they were."""

from __future__ import annotations

import os
import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bad_input_support import digest, run_cli, synced_account
from jobs_support import state_of
from wxtui.core import paths

SETTINGS = dict(deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")

# Values a person (or a script gone wrong) types where a number or a name is expected.
AWKWARD = ["", " ", "0", "-1", "1", "²", "１２", "٣", "1e9", "1.5", "nan", "inf", "-0", "0x10", "9" * 30,
           "100000000000000000000", "VIP", "vip ", "星标组", "[/]x", "[bold]b", "x\x1b[2J\x1b]0;PWNED\x07",
           "a\u202eb", "line\nbreak", "x" * 5000, "%s%n", "'; DROP TABLE followers; --", "../../etc/passwd",
           "2025-13-45", "2025-02-30", "+", "1,000", "1_000", "_1", ","]
numbers = st.one_of(st.integers(min_value=-(10**25), max_value=10**25).map(str),
                    st.integers(min_value=2**62, max_value=2**65).map(str),
                    st.text(alphabet="0123456789²³¹١٢３,_-+ ", max_size=25))
values = st.one_of(st.sampled_from(AWKWARD), st.text(max_size=40), numbers)

VERBS = ["tag", "untag", "clear-tags", "blacklist", "unblacklist"]
VALUE_FLAGS = ["--tag", "--text", "--with-tag", "--without-tag", "--scene", "--followed-from", "--followed-to",
               "--selection", "--concurrency", "--account", "--demo-followers"]
SWITCHES = ["--everyone", "--untagged", "--all-tags", "--blacklisted", "--not-blacklisted", "--json", "--stdin"]


@st.composite
def verb_argv(draw) -> list[str]:
    argv = [draw(st.sampled_from(VERBS))]
    for _ in range(draw(st.integers(0, 4))):
        if draw(st.booleans()):
            argv += [draw(st.sampled_from(VALUE_FLAGS)), draw(values)]
        else:
            argv.append(draw(st.sampled_from(SWITCHES)))
    if draw(st.integers(0, 5)) == 0:
        argv.append(draw(values))  # a stray positional
    return argv + ["--dry-run"]  # whatever else is wrong, this corpus must never send


@st.composite
def any_argv(draw) -> list[str]:
    """Each kind of command about as often as the others."""
    kind = draw(st.sampled_from(["verb", "verb", "verb", "jobs", "jobs", "jobs-list", "account", "emulator",
                                 "sync", "demo", "top"]))
    if kind == "verb":
        return draw(verb_argv())
    if kind == "jobs":
        return ["jobs", draw(st.sampled_from(["show", "resume", "cancel", "undo"])), draw(numbers)] + (
            ["--dry-run"] if draw(st.booleans()) else [])
    if kind == "jobs-list":
        return ["jobs", "list", "--limit", draw(numbers)]
    if kind == "account":
        appid = draw(values.filter(lambda v: not re.fullmatch(r"wx[0-9a-f]{16}", v)))
        return ["account", "add", draw(values), "--appid", appid, "--no-secret"]
    if kind == "emulator":  # only values no port accepts: a valid one would start serving
        return ["emulator", "--port", draw(st.sampled_from(["-1", "65536", "70000", "²", "1e3", "", "port",
                                                            "9" * 30]))]
    if kind == "sync":
        return ["sync", "--demo", "--followers", draw(st.sampled_from(["0", "-5", "10" * 8, "²", "many"]))]
    if kind == "demo":
        return ["demo", "--followers", draw(values)]
    return [draw(values), draw(values)]


def _protected(cache: Path) -> dict:
    config = paths.config_file()
    return {"cache": digest(cache), "config": digest(config)}


def _check(run, allowed=(0, 1, 2, 3)) -> None:
    assert "Traceback" not in run.text, run.text
    assert "did not expect" not in run.text, run.text  # the last net is not a message of its own
    assert run.code in allowed, (run.code, run.text)
    assert not RAW_CONTROL.search(run.text.replace("\n", "").replace("\r", "")), repr(run.text[:500])


def _closed(cache: Path) -> None:
    """Fold the WAL into the file so that its bytes say all it holds."""
    import sqlite3

    conn = sqlite3.connect(cache, isolation_level=None)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def test_generated_arguments(emu, monkeypatch):
    with synced_account(emu, monkeypatch) as cache:
        _closed(cache)
        before, platform = _protected(cache), state_of(emu.account)

        @settings(max_examples=260, **SETTINGS)
        @given(argv=any_argv())
        def check(argv):
            run = run_cli(argv)
            _check(run)
            assert _protected(cache) == before, argv
            assert state_of(emu.account) == platform, argv

        check()


def test_generated_openid_files(emu, monkeypatch, tmp_path):
    openids = emu.account.follower_openids()
    line = st.one_of(st.sampled_from(openids), st.text(max_size=60), st.sampled_from(AWKWARD))
    content = st.one_of(st.binary(max_size=3000),
                        st.lists(line, max_size=30).map(lambda ls: "\n".join(ls).encode("utf-8", "surrogatepass")))
    listing = tmp_path / "openids.txt"
    with synced_account(emu, monkeypatch) as cache:
        _closed(cache)
        before, platform = _protected(cache), state_of(emu.account)

        @settings(max_examples=120, **SETTINGS)
        @given(data=content, stdin=st.booleans())
        def check(data, stdin):
            if stdin:
                run = run_cli(["tag", "--tag", "VIP", "--stdin", "--dry-run"],
                              stdin=data.decode("utf-8", "replace"))
            else:
                listing.write_bytes(data)
                run = run_cli(["tag", "--tag", "VIP", "--file", str(listing), "--dry-run"])
            _check(run, (0, 1, 2))
            assert _protected(cache) == before
            assert state_of(emu.account) == platform

        check()


def test_mutated_caches(emu, monkeypatch):
    with synced_account(emu, monkeypatch) as cache:
        assert run_cli(["tag", "--tag", "VIP", "--everyone", "--yes"]).code == 0  # a journal to lose
        _closed(cache)
        original = cache.read_bytes()
        size = len(original)
        mutation = st.one_of(
            st.lists(st.tuples(st.integers(0, size - 1), st.integers(0, 255)), min_size=1, max_size=40),
            st.integers(0, size - 1).map(lambda n: ("truncate", n)),
            st.integers(0, size // 4096 - 1).map(lambda p: ("zero page", p)),
        )

        @settings(max_examples=110, **SETTINGS)
        @given(change=mutation, argv=st.sampled_from([["jobs", "list"], ["jobs", "show", "1"],
                                                      ["tag", "--tag", "Staff", "--everyone", "--dry-run"]]))
        def check(change, argv):
            data = bytearray(original)
            if isinstance(change, tuple) and change[0] == "truncate":
                data = data[: change[1]]
            elif isinstance(change, tuple):
                data[change[1] * 4096 : (change[1] + 1) * 4096] = bytes(4096)
            else:
                for offset, value in change:
                    data[offset] = value
            for suffix in ("-wal", "-shm"):
                Path(f"{cache}{suffix}").unlink(missing_ok=True)
            cache.write_bytes(bytes(data))
            mutated = digest(cache)
            run = run_cli(argv)
            _check(run, (0, 1, 2))
            if run.code == 1 and "cache" in run.err:
                assert "wxtui doctor --repair" in run.err or "busy" in run.err or "disk" in run.err, run.err
            if data:  # an empty file holds nothing to lose: it is a new cache
                assert digest(cache) == mutated, (change, argv)

        check()


def test_mutated_configs(emu, monkeypatch):
    with synced_account(emu, monkeypatch) as cache:
        config = paths.config_file()
        original = config.read_text("utf-8")
        text_change = st.one_of(
            st.text(max_size=300),
            st.tuples(st.integers(0, len(original)), st.text(max_size=40)).map(
                lambda t: original[: t[0]] + t[1] + original[t[0]:]),
            st.tuples(st.integers(0, len(original)), st.integers(0, len(original))).map(
                lambda t: original[: min(t)] + original[max(t):]),
            st.sampled_from(['hosts = 5\n', 'default_account = "nosuch"\n', '[accounts.x]\nappid = 5\n',
                             original.replace("hosts = [", 'hosts = [" http://127.0.0.1:1 ", '),
                             original + '\n[accounts.other]\nappid = "wx0000000000000000"\nconcurrency = -3\n',
                             original.replace("http", "\x1b[2Jhttp")]),
        )

        @settings(max_examples=110, **SETTINGS)
        @given(text=text_change, argv=st.sampled_from([["account", "list"], ["jobs", "list", "--account", "emu"],
                                                       ["tag", "--tag", "VIP", "--everyone", "--dry-run",
                                                        "--account", "emu"]]))
        def check(text, argv):
            config.write_bytes(text.encode("utf-8", "surrogatepass"))
            written = digest(config)
            cache_before = digest(cache)
            run = run_cli(argv)
            _check(run, (0, 1, 2))
            assert digest(config) == written
            assert digest(cache) == cache_before

        check()
