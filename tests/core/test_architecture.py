"""House rules that keep the code easy to change."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "wxtui"


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_only_the_ui_package_imports_textual():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if PACKAGE / "ui" in path.parents:
            continue
        if any(name == "textual" or name.startswith("textual.") for name in _imported_modules(path)):
            offenders.append(str(path.relative_to(PACKAGE.parent)))
    assert offenders == []


def test_the_ui_package_is_where_textual_is_used():
    # Guards the test above against passing because it scans nothing.
    assert any("textual" in " ".join(_imported_modules(p)) for p in (PACKAGE / "ui").rglob("*.py"))


def test_the_command_line_starts_without_importing_the_ui_or_the_network_stack():
    code = (
        "import sys, wxtui.cli.main as c; c.build_parser(); "
        "print(','.join(m for m in ('textual', 'httpx', 'starlette') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
