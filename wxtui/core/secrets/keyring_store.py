"""Where AppSecrets are kept: the OS keyring (service "wxtui", one entry per AppID) and, for
this process only, memory.

On a server reached over SSH there is usually no keyring at all (every call raises
NoKeyringError), and a locked Secret Service collection can block forever waiting for an unlock
dialog nobody sees. So every keyring call runs in a daemon thread with a timeout, and
`probe_keyring()` says, before any UI starts, whether the keyring can be used and why not.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

from wxtui.core.errors import WxtuiError, redact
from wxtui.core.secret_str import SecretStr

log = logging.getLogger("wxtui.core.secrets")

SERVICE = "wxtui"
PROBE_TIMEOUT_S = 3.0
KEYRING_TIMEOUT_S = 5.0
_PROBE_USER = "__wxtui_probe__"
MAX_SECRET_LENGTH = 256

T = TypeVar("T")


class KeyringTimeout(WxtuiError):
    pass


class KeyringUnavailable(WxtuiError):
    """The keyring cannot store or read secrets here; str() explains and offers the choices."""


def call_with_timeout(fn: Callable[..., T], timeout: float, *args: Any) -> T:
    """fn(*args) in a daemon thread; KeyringTimeout if it does not return in time.

    A daemon thread (not an executor's) so that a call stuck forever cannot hold up the exit.
    """
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            outcome["value"] = fn(*args)
        except BaseException as exc:  # handed back to the caller below
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name="wxtui-keyring", daemon=True).start()
    if not done.wait(timeout):
        raise KeyringTimeout(
            f"the keyring did not answer within {timeout:g} s (a locked collection waiting for an "
            "unlock dialog nobody can see?)")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


# -- the keyring's state --------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyringStatus:
    usable: bool
    backend: str  # "keyring.backends.SecretService.Keyring", or "" if it could not be loaded
    problem: str = ""  # why it cannot be used
    warning: str = ""  # usable, but weak (keyrings.alt's plaintext file)
    prompts: bool = False  # asks for a password on the terminal: only before the UI

    def describe(self) -> str:
        name = self.backend or "no backend"
        if not self.usable:
            return f"{name}: not usable: {self.problem}"
        if self.warning:
            return f"{name}: usable, but {self.warning}"
        if self.prompts:
            return f"{name}: usable; asks for its password on the terminal before the UI starts"
        return f"{name}: usable"


PLAINTEXT_WARNING = (
    "it is keyrings.alt's PlaintextKeyring, which only base64-encodes secrets in a file: anyone "
    "who can read your home directory (backups included) can read the AppSecret. Prefer a "
    "secret_command or an environment variable from a real secret store")


def backend_name(backend: object) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def _leaves(backend: object) -> list[object]:
    inner = getattr(backend, "backends", None)  # keyring's ChainerBackend
    if isinstance(inner, (list, tuple)):
        return [leaf for b in inner for leaf in _leaves(b)]
    return [backend]


def classify_backend(backend: object) -> KeyringStatus:
    """What kind of backend this is, before any call to it."""
    name = backend_name(backend)
    leaves = _leaves(backend)
    modules = [type(b).__module__ for b in leaves]
    if not leaves or all(m.startswith(("keyring.backends.fail", "keyring.backends.null")) for m in modules):
        return KeyringStatus(False, name, "no keyring backend is available (on a server reached over SSH "
                                         "there is usually no Secret Service / D-Bus session)")
    alt = [b for b in leaves if type(b).__module__.startswith("keyrings.alt")]
    warning = PLAINTEXT_WARNING if any("Plaintext" in type(b).__name__ for b in alt) else ""
    prompts = any("Encrypted" in type(b).__name__ for b in alt)
    return KeyringStatus(True, name, warning=warning, prompts=prompts)


def _probe() -> KeyringStatus:
    import keyring
    from keyring.errors import KeyringError

    backend = keyring.get_keyring()
    status = classify_backend(backend)
    if not status.usable or status.prompts:
        return status  # a prompting backend would read the terminal from this thread
    try:
        backend.get_password(SERVICE, _PROBE_USER)
    except KeyringError as exc:
        return KeyringStatus(False, status.backend, _keyring_problem(exc))
    except Exception as exc:  # a backend's own failure (D-Bus, file permissions): report it
        return KeyringStatus(False, status.backend, f"{type(exc).__name__}: {redact(str(exc))}")
    return status


def _keyring_problem(exc: BaseException) -> str:
    from keyring.errors import NoKeyringError

    if isinstance(exc, NoKeyringError):
        return ("no keyring backend is available (on a server reached over SSH there is usually "
                "no Secret Service / D-Bus session)")
    return f"{type(exc).__name__}: {redact(str(exc)) or 'the keyring refused'}"


_probe_lock = threading.Lock()
_probe_cache: KeyringStatus | None = None


def probe_keyring(timeout: float = PROBE_TIMEOUT_S, *, refresh: bool = False) -> KeyringStatus:
    """Whether the keyring works here (cached for the process; blocks at most `timeout`).

    Call it before the UI starts, or from a worker thread: never on the UI's event loop.
    """
    global _probe_cache
    with _probe_lock:
        if _probe_cache is not None and not refresh:
            return _probe_cache
        try:
            status = call_with_timeout(_probe, timeout)
        except KeyringTimeout as exc:
            status = KeyringStatus(False, "", str(exc))
        except Exception as exc:  # loading the backend itself failed
            status = KeyringStatus(False, "", f"{type(exc).__name__}: {redact(str(exc))}")
        _probe_cache = status
        if status.warning:
            log.warning("keyring: %s", status.warning)
        return status


async def aprobe_keyring(timeout: float = PROBE_TIMEOUT_S, *, refresh: bool = False) -> KeyringStatus:
    return await asyncio.to_thread(probe_keyring, timeout, refresh=refresh)


def reset_keyring_probe() -> None:
    """Forget the cached probe (after keyring.set_keyring(), or when the user fixed the keyring)."""
    global _probe_cache
    with _probe_lock:
        _probe_cache = None


def keyring_setup_help() -> str:
    return (
        "To use a keyring on a server without a desktop: run a Secret Service there (e.g. "
        "gnome-keyring-daemon inside `dbus-run-session`), or install keyrings.alt "
        "(`pip install keyrings.alt`) and pick its backend with "
        "PYTHON_KEYRING_BACKEND=keyrings.alt.file.EncryptedKeyring (it asks for its password "
        "before the UI starts). keyrings.alt's default PlaintextKeyring only base64-encodes: "
        "wxtui warns when it is in use.")


# -- keyring entries ------------------------------------------------------------------------------


def _usable_status(timeout: float) -> KeyringStatus:
    status = probe_keyring(min(timeout, PROBE_TIMEOUT_S))
    if not status.usable:
        raise KeyringUnavailable(f"The keyring cannot be used: {status.problem}.\n{keyring_setup_help()}")
    return status


def _keyring_call(method: str, status: KeyringStatus, timeout: float, *args: Any) -> Any:
    import keyring
    from keyring.errors import KeyringError

    fn = getattr(keyring, method)
    try:
        if status.prompts:
            return fn(*args)  # asks on the terminal: the caller is before the UI, in the foreground
        return call_with_timeout(fn, timeout, *args)
    except KeyringTimeout as exc:
        raise KeyringUnavailable(f"The keyring cannot be used: {exc}.\n{keyring_setup_help()}") from None
    except KeyringError as exc:
        if method == "delete_password" and type(exc).__name__ == "PasswordDeleteError":
            return False
        raise KeyringUnavailable(f"The keyring cannot be used: {_keyring_problem(exc)}.\n"
                                 f"{keyring_setup_help()}") from None
    except Exception as exc:
        raise KeyringUnavailable(f"The keyring failed: {type(exc).__name__}: {redact(str(exc))}") from None


def store_secret(appid: str, secret: str, *, timeout: float = KEYRING_TIMEOUT_S) -> KeyringStatus:
    """Save the AppSecret in the keyring (KeyringUnavailable if it cannot be)."""
    value = check_secret(secret)
    status = _usable_status(timeout)
    _keyring_call("set_password", status, timeout, SERVICE, appid, value.reveal())
    remember_for_session(appid, value)
    return status


def read_stored_secret(appid: str, *, timeout: float = KEYRING_TIMEOUT_S,
                       allow_prompt: bool = False) -> SecretStr | None:
    status = _usable_status(timeout)
    if status.prompts and not allow_prompt:
        raise KeyringUnavailable(f"{status.backend} asks for a password on the terminal; it is "
                                 "only used before the UI starts")
    value = _keyring_call("get_password", status, timeout, SERVICE, appid)
    return SecretStr(value) if value else None


def has_stored_secret(appid: str, *, timeout: float = KEYRING_TIMEOUT_S) -> bool | None:
    """Whether the keyring holds the account's secret; None when that cannot be told."""
    try:
        return read_stored_secret(appid, timeout=timeout) is not None
    except KeyringUnavailable:
        return None


def delete_secret(appid: str, *, timeout: float = KEYRING_TIMEOUT_S) -> bool:
    """Remove the entry; False if there was none. KeyringUnavailable if the keyring cannot be used."""
    forget_session_secret(appid)
    status = _usable_status(timeout)
    if not _keyring_call("get_password", status, timeout, SERVICE, appid):
        return False
    result = _keyring_call("delete_password", status, timeout, SERVICE, appid)
    return result is not False


def check_secret(secret: str) -> SecretStr:
    """The AppSecret as a SecretStr, or WxtuiError saying what is wrong (without showing it)."""
    value = secret.strip() if isinstance(secret, str) else ""
    if not value:
        raise WxtuiError("The AppSecret is empty")
    if len(value) > MAX_SECRET_LENGTH or any(c.isspace() or not c.isprintable() for c in value):
        raise WxtuiError("That does not look like an AppSecret (it holds spaces or control characters, "
                         f"or is longer than {MAX_SECRET_LENGTH}); copy it again from Settings and "
                         "Development > Basic Configuration")
    return SecretStr(value)


# -- this process's memory ------------------------------------------------------------------------

_session: dict[str, SecretStr] = {}
_session_lock = threading.Lock()


def remember_for_session(appid: str, secret: str) -> None:
    """Keep the secret in memory for this process only (typed at a prompt, or found once)."""
    value = check_secret(secret)
    with _session_lock:
        _session[appid] = value


def forget_session_secret(appid: str | None = None) -> None:
    with _session_lock:
        if appid is None:
            _session.clear()
        else:
            _session.pop(appid, None)


def session_secret(appid: str) -> SecretStr | None:
    with _session_lock:
        return _session.get(appid)
