"""The AppSecret: keyring entries, detection of a missing or hanging keyring, resolution order."""

from __future__ import annotations

import sys
import threading
import time

import keyring
import pytest
from keyring.backend import KeyringBackend

from wxtui.core import secrets
from wxtui.core.config import new_profile
from wxtui.families.wechat.errors import WxtuiError

APPID = "wx0123456789abcdef"
SECRET = "0123456789abcdef0123456789abcdef"
PY = sys.executable


@pytest.fixture
def profile():
    return new_profile("acme", APPID)


class FakeTTY:
    def isatty(self):
        return True


# -- the keyring ----------------------------------------------------------------------------------


def test_store_read_and_delete_in_the_keyring(memory_keyring):
    status = secrets.store_secret(APPID, f"  {SECRET}\n")
    assert status.usable and status.backend.endswith("MemoryKeyring")
    assert memory_keyring.entries == {("wxtui", APPID): SECRET}
    secrets.forget_session_secret()
    value = secrets.read_stored_secret(APPID)
    assert value == SECRET and repr(value) == "'***'"
    assert secrets.has_stored_secret(APPID) is True
    assert secrets.delete_secret(APPID) is True
    assert secrets.delete_secret(APPID) is False
    assert memory_keyring.entries == {}


def test_the_failing_backend_is_detected_and_explained(failing_keyring):
    status = secrets.probe_keyring()
    assert not status.usable
    assert "no keyring backend" in status.problem and "SSH" in status.problem
    with pytest.raises(secrets.KeyringUnavailable) as info:
        secrets.store_secret(APPID, SECRET)
    assert "keyrings.alt" in str(info.value)
    assert SECRET not in str(info.value)
    assert secrets.has_stored_secret(APPID) is None


def test_a_hanging_keyring_times_out_instead_of_blocking():
    release = threading.Event()

    class LockedCollection(KeyringBackend):
        priority = 1

        def get_password(self, service, username):
            release.wait(30)  # an unlock dialog nobody sees

        def set_password(self, service, username, password):
            release.wait(30)

        def delete_password(self, service, username):
            release.wait(30)

    previous = keyring.get_keyring()
    keyring.set_keyring(LockedCollection())
    secrets.reset_keyring_probe()
    try:
        started = time.monotonic()
        status = secrets.probe_keyring(timeout=0.2)
        assert time.monotonic() - started < 2
        assert not status.usable and "did not answer within 0.2 s" in status.problem
        # Resolution goes on to the other sources without waiting again.
        started = time.monotonic()
        with pytest.raises(secrets.SecretUnavailable) as info:
            secrets.resolve_secret(new_profile("acme", APPID))
        assert time.monotonic() - started < 2
        assert "did not answer" in str(info.value)
    finally:
        release.set()
        keyring.set_keyring(previous)
        secrets.reset_keyring_probe()


def test_keyrings_alt_plaintext_is_usable_with_a_warning_and_encrypted_is_not_probed():
    class PlaintextKeyring(KeyringBackend):
        priority = 1
        get_password = set_password = delete_password = None

    PlaintextKeyring.__module__ = "keyrings.alt.file"
    status = secrets.classify_backend(PlaintextKeyring())
    assert status.usable and "base64" in status.warning

    calls = []

    class EncryptedKeyring(KeyringBackend):
        priority = 1

        def get_password(self, service, username):
            calls.append(username)  # would ask for the keyring's password on the terminal

        set_password = delete_password = get_password

    EncryptedKeyring.__module__ = "keyrings.alt.file"
    previous = keyring.get_keyring()
    keyring.set_keyring(EncryptedKeyring())
    secrets.reset_keyring_probe()
    try:
        status = secrets.probe_keyring()
        assert status.usable and status.prompts and calls == []
        # While the UI may run (no prompt allowed) it is skipped, never called from a thread.
        with pytest.raises(secrets.SecretUnavailable) as info:
            secrets.resolve_secret(new_profile("acme", APPID))
        assert "asks for a password on the terminal" in str(info.value)
        assert calls == []
    finally:
        keyring.set_keyring(previous)
        secrets.reset_keyring_probe()


# -- resolution -----------------------------------------------------------------------------------


def test_the_keyring_comes_first_and_the_result_is_kept_for_the_session(memory_keyring, monkeypatch, profile):
    memory_keyring.entries[("wxtui", APPID)] = SECRET
    monkeypatch.setenv("WXTUI_SECRET_" + APPID.upper(), "from-the-environment-0000000000")
    found = secrets.resolve_secret(profile)
    assert (found.value, found.source) == (SECRET, "keyring")
    assert SECRET not in repr(found)
    memory_keyring.entries.clear()
    assert secrets.resolve_secret(profile).source == "session"


def test_then_the_secret_command_with_its_stdin_closed(memory_keyring, tmp_path):
    script = tmp_path / "pw.py"
    # Reading stdin must not hang waiting on the terminal; the AppID is passed in the environment.
    script.write_text("import os, sys\nsys.stdin.read()\nprint(os.environ['WXTUI_APPID'][-4:] + 'x' * 28)\n")
    profile = new_profile("acme", APPID, secret_command=[PY, str(script)])
    found = secrets.resolve_secret(profile)
    assert found.source == "secret_command" and found.value == "cdef" + "x" * 28


def test_a_failing_secret_command_says_why_and_the_environment_is_next(failing_keyring, monkeypatch, tmp_path):
    script = tmp_path / "pw.py"
    script.write_text("import sys\nprint('vault is sealed', file=sys.stderr)\nsys.exit(3)\n")
    monkeypatch.setenv("ACME_SECRET", SECRET)
    profile = new_profile("acme", APPID, secret_command=[PY, str(script)], secret_env="ACME_SECRET")
    found = secrets.resolve_secret(profile)
    assert (found.value, found.source) == (SECRET, "env ACME_SECRET")
    monkeypatch.delenv("ACME_SECRET")
    secrets.forget_session_secret()
    with pytest.raises(secrets.SecretUnavailable) as info:
        secrets.resolve_secret(profile)
    message = str(info.value)
    assert "exited with status 3: vault is sealed" in message
    assert "ACME_SECRET is not set" in message


def test_the_default_variable_is_named_after_the_appid(failing_keyring, monkeypatch, profile):
    monkeypatch.setenv("WXTUI_SECRET_WX0123456789ABCDEF", SECRET)
    assert secrets.resolve_secret(profile).source == "env WXTUI_SECRET_WX0123456789ABCDEF"


def test_nothing_found_lists_every_attempt_in_order_and_every_choice(failing_keyring, profile):
    with pytest.raises(secrets.SecretUnavailable) as info:
        secrets.resolve_secret(profile, allow_prompt=True)  # stdin is not a terminal under pytest
    message = str(info.value)
    order = [message.index(f"  - {s}:") for s in ("keyring", "secret_command", "environment", "prompt")]
    assert order == sorted(order)
    assert "stdin is not a terminal" in message
    for choice in ("--secret-command", "export WXTUI_SECRET_WX0123456789ABCDEF=",
                   "for this session only", "keyrings.alt"):
        assert choice in message
    assert "Traceback" not in message


def test_the_prompt_is_used_only_when_allowed_and_on_a_terminal(failing_keyring, monkeypatch, profile):
    asked = []

    def fake_getpass(prompt):
        asked.append(prompt)
        return SECRET

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    monkeypatch.setattr(sys, "stdin", FakeTTY())
    with pytest.raises(secrets.SecretUnavailable, match="not asked while the UI runs"):
        secrets.resolve_secret(profile)  # the default: never prompt
    assert asked == []
    found = secrets.resolve_secret(profile, allow_prompt=True)
    assert (found.value, found.source) == (SECRET, "prompt")
    assert "session only" in asked[0] and APPID in asked[0]
    assert secrets.resolve_secret(profile).source == "session"


async def test_async_resolution_runs_off_the_loop_and_never_prompts(failing_keyring, monkeypatch, profile):
    monkeypatch.setattr("getpass.getpass", lambda prompt: pytest.fail("prompted"))
    monkeypatch.setattr(sys, "stdin", FakeTTY())
    loop_thread = threading.get_ident()
    seen = []

    class Recording(KeyringBackend):
        priority = 1

        def get_password(self, service, username):
            seen.append(threading.get_ident())
            return SECRET if username == APPID else None

        set_password = delete_password = get_password

    previous = keyring.get_keyring()
    keyring.set_keyring(Recording())
    secrets.reset_keyring_probe()
    try:
        found = await secrets.aresolve_secret(profile)
    finally:
        keyring.set_keyring(previous)
        secrets.reset_keyring_probe()
    assert found.source == "keyring"
    assert seen and loop_thread not in seen


@pytest.mark.parametrize("bad", ["", "   ", "two words", "tab\there", "x" * 300])
def test_malformed_secrets_are_refused_without_echoing_them(bad):
    with pytest.raises(WxtuiError) as info:
        secrets.check_secret(bad)
    if bad.strip():
        assert bad not in str(info.value)
