"""Where wxtui keeps its files: platform directories, overridable with WXTUI_HOME.

WXTUI_HOME puts config, data and logs under one folder (tests, a demo on a shared server,
several independent set-ups on one machine).
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "wxtui"


def _home() -> Path | None:
    value = os.environ.get("WXTUI_HOME")
    return Path(value).expanduser() if value else None


def config_dir() -> Path:
    home = _home()
    if home:
        return home / "config"
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    home = _home()
    if home:
        return home / "data"
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    home = _home()
    if home:
        return home / "logs"
    import platformdirs

    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def config_file() -> Path:
    return config_dir() / "config.toml"


def cache_db(account_key: str) -> Path:
    """The SQLite cache of one account (keyed by AppID, or a name for other account kinds)."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in account_key)
    return data_dir() / "accounts" / f"{safe}.sqlite"


def ensure_private_dir(path: Path) -> Path:
    """Create a directory (and parents) readable only by the user.

    Folders it creates get mode 0700, and so does an existing one of wxtui's own (its config,
    data and log folders, or WXTUI_HOME, and what lies within). Any other folder that already
    exists is left as it is: a cache or a token file may be put in /tmp or a shared folder,
    and changing that folder's mode would lock everyone else out of it.
    """
    path = Path(path)
    missing = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    for folder in [*missing, *([path] if path not in missing and _is_own_folder(path) else [])]:
        try:
            folder.chmod(0o700)
        except OSError:
            pass
    return path


def _is_own_folder(path: Path) -> bool:
    """Whether `path` is one of wxtui's own folders or lies within one."""
    try:
        resolved = path.resolve()
        roots = [_home()] if _home() else [config_dir(), data_dir(), log_dir()]
        return any(resolved == root.resolve() or root.resolve() in resolved.parents
                   for root in roots if root is not None)
    except OSError:
        return False


def create_private_file(path: Path) -> None:
    """Make sure a file exists with mode 0600 before anything is written to it."""
    ensure_private_dir(path.parent)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)
