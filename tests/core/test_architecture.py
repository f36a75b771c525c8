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
        "print(','.join(m for m in ('textual', 'httpx', 'starlette', 'asyncio', 'sqlite3', 'tomllib') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_a_command_that_sends_nothing_loads_no_http_transport(tmp_path):
    """`wxtui jobs` opens the account, its client with it, but sends nothing: aiohttp and its
    TLS context stay unloaded, and so does httpx's own command line."""
    appid = "wx0123456789abcdef"
    code = (
        "import sys, wxtui.cli.main as c; "
        f"assert c.main(['account', 'add', 'shop', '--appid', '{appid}', '--host', 'http://127.0.0.1:9', "
        "'--no-secret', '--default']) == 0; "
        "status = c.main(['jobs']); "
        "print(status, ','.join(m for m in ('aiohttp', 'httpx_aiohttp', 'pygments') if sys.modules.get(m)))"
    )
    env = {"WXTUI_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", f"WXTUI_SECRET_{appid.upper()}": "0" * 32}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "0"  # no jobs yet; nothing loaded for sending


# -- the rooms and their arrows (wxtui.family, docs/architecture.md) ------------------------------

from import_graph import circles, graph  # noqa: E402

FAMILIES = ("wxtui.families.wechat", "wxtui.families.tim")


def _within(module: str, room: str) -> bool:
    return module == room or module.startswith(room + ".")


def _arrows_from(room: str, to: str) -> list[str]:
    return sorted(f"{module} -> {target}" for module, targets in graph().items() if _within(module, room)
                  for target in targets if _within(target, to))


def test_the_import_graph_is_read_from_the_package():
    # Guards the tests below against passing on an empty or misread graph.
    edges = graph()
    assert "wxtui.families.wechat.planner" in edges["wxtui.families.wechat.family"]
    assert "wxtui.jobs.plans" in edges["wxtui.jobs.service"]
    assert "wxtui.families.tim.emulator.admin" in edges["wxtui.families.tim.emulator.app"]  # relative


def test_no_import_circles_anywhere_in_the_package():
    assert circles(graph()) == []


def test_a_circle_is_found_when_there_is_one():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_families_never_import_each_other():
    assert _arrows_from(FAMILIES[0], FAMILIES[1]) == []
    assert _arrows_from(FAMILIES[1], FAMILIES[0]) == []


def test_the_engine_the_store_the_core_and_the_emulation_kit_import_no_family():
    for room in ("wxtui.jobs", "wxtui.store", "wxtui.core", "wxtui.emulation", "wxtui.family"):
        assert _arrows_from(room, "wxtui.families") == [], room


def test_only_the_command_line_and_the_app_stand_above_the_families():
    # The families are reached through the registry (wxtui.family), never by name from the UI.
    assert _arrows_from("wxtui.ui", "wxtui.families") == []
