"""The app's commands parse as documented and start nothing heavy until run."""

from __future__ import annotations

from wxtui.cli.main import build_parser
from wxtui.cli import app as commands


def test_demo_app_and_serve_parse():
    parser = build_parser()
    args = parser.parse_args(["demo", "--slow", "--followers", "2,000", "--no-mouse"])
    assert (args.func, args.slow, args.followers, args.no_mouse) == (commands.cmd_demo, True, 2000, True)
    args = parser.parse_args(["app", "--account", "acme"])
    assert (args.func, args.account, args.no_mouse) == (commands.cmd_app, "acme", False)
    args = parser.parse_args(["serve", "--demo"])
    assert (args.func, args.port, args.demo) == (commands.cmd_serve, commands.DEFAULT_SERVE_PORT, True)


def test_app_without_a_configured_account_says_how_to_add_one(capsys):
    status = commands.cmd_app(build_parser().parse_args(["app"]))
    assert status == 2
    assert "wxtui account add" in capsys.readouterr().err
