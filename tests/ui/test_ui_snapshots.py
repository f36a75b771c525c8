"""Snapshots of every screen at 80x24 and 120x40, from fixed data and a fixed clock.

Update after a deliberate change of the UI: pytest tests/test_ui_snapshots.py --snapshot-update
(then regenerate the README's screenshots: python screenshots/generate.py).
"""

from __future__ import annotations

import pytest

from ui_fixtures import SCENES, SIZES, snapshot_app


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("scene", SCENES)
def test_screen(snap_compare, tmp_path, scene, size):
    assert snap_compare(snapshot_app(tmp_path), terminal_size=SIZES[size], run_before=SCENES[scene])


@pytest.mark.parametrize("size", SIZES)
def test_first_run_screen(snap_compare, size):
    from wxtui.ui.app import WxtuiApp

    assert snap_compare(WxtuiApp(None, cursor_blink=False), terminal_size=SIZES[size])
