"""Write screenshots/*.svg of the real app, from the same fixed data as the snapshot tests.

    python screenshots/generate.py

Each scene of tests/ui_fixtures.py (the emulator's seeded demo account, a fixed clock) is run
headless at 120x40, and the main screen also at 80x24. Run it after any change of the UI; the
snapshot tests fail until their own copies are updated too (pytest --snapshot-update).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from textual._doc import take_svg_screenshot  # noqa: E402  (the renderer the snapshot tests use)

from ui_fixtures import SCENES, SIZES, snapshot_app  # noqa: E402

SHOTS = [(name, "120x40") for name in SCENES] + [("main", "80x24")]


def main() -> None:
    for name, size in SHOTS:
        with tempfile.TemporaryDirectory() as tmp:
            svg = take_svg_screenshot(app=snapshot_app(Path(tmp)), terminal_size=SIZES[size],
                                      run_before=SCENES[name])
        target = HERE / (f"{name}.svg" if size == "120x40" else f"{name}-{size}.svg")
        target.write_text(svg, encoding="utf-8")
        print(f"wrote {target.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
