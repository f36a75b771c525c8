"""The AppSecret: kept in the OS keyring, found again when a token is needed.

keyring_store.py: the keyring (probed with a timeout, entries per AppID) and this process's memory.
resolve.py: where a secret comes from, in order, and what the user is told when none has it.
"""

from wxtui.core.config import secret_env_for

from .keyring_store import (KEYRING_TIMEOUT_S, PROBE_TIMEOUT_S, SERVICE, KeyringStatus, KeyringTimeout,
                            KeyringUnavailable, aprobe_keyring, call_with_timeout, check_secret,
                            classify_backend, delete_secret, forget_session_secret, has_stored_secret,
                            keyring_setup_help, probe_keyring, read_stored_secret, remember_for_session,
                            reset_keyring_probe, session_secret, store_secret)
from .resolve import (ResolvedSecret, SecretUnavailable, aresolve_secret, no_secret_message, resolve_secret,
                      secret_choices, secret_sources)

__all__ = [
    "KEYRING_TIMEOUT_S", "PROBE_TIMEOUT_S", "SERVICE", "KeyringStatus", "KeyringTimeout",
    "KeyringUnavailable", "ResolvedSecret", "SecretUnavailable", "aprobe_keyring", "aresolve_secret",
    "call_with_timeout", "check_secret", "classify_backend", "delete_secret", "forget_session_secret",
    "has_stored_secret", "keyring_setup_help", "no_secret_message", "probe_keyring",
    "read_stored_secret", "remember_for_session", "reset_keyring_probe", "resolve_secret",
    "secret_choices", "secret_env_for", "secret_sources", "session_secret", "store_secret",
]
