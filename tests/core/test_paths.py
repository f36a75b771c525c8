"""Private folders: wxtui tightens its own folders, never a shared one it merely writes into."""

from __future__ import annotations

import stat

from wxtui.core import paths


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_created_folders_are_private(tmp_path, monkeypatch):
    monkeypatch.setenv("WXTUI_HOME", str(tmp_path / "home"))
    made = paths.ensure_private_dir(tmp_path / "elsewhere" / "a" / "b")
    assert _mode(made) == 0o700
    assert _mode(tmp_path / "elsewhere") == 0o700 and _mode(tmp_path / "elsewhere" / "a") == 0o700


def test_an_existing_shared_folder_keeps_its_mode(tmp_path, monkeypatch):
    monkeypatch.setenv("WXTUI_HOME", str(tmp_path / "home"))
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # like /tmp
    paths.create_private_file(shared / "cache.sqlite")
    assert _mode(shared) == 0o1777
    assert _mode(shared / "cache.sqlite") == 0o600


def test_an_existing_folder_of_wxtuis_own_is_tightened(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("WXTUI_HOME", str(home))
    data = home / "data" / "accounts"
    data.mkdir(parents=True)
    data.chmod(0o755)
    paths.ensure_private_dir(data)
    assert _mode(data) == 0o700
