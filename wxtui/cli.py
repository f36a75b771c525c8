"""The `wxtui` command: the app, and headless commands for scripts and servers.

Each command lives in the module that owns its subject; this file only wires them up. A command
module exposes `register(subparsers)`, which adds its parser(s) and sets `func` to a callable
taking the parsed args and returning an exit status. Imports stay lazy so `wxtui --help` is fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Modules that add subcommands, in the order they appear in --help.
COMMAND_MODULES = (
    "wxtui.accounts.commands",
    "wxtui.doctor",
    "wxtui.emulator.commands",
    "wxtui.jobs.commands",
    "wxtui.sync_command",
    "wxtui.tim.commands",
    "wxtui.ui.commands",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wxtui",
        description="Administer a WeChat Official Account's followers, tags and blacklist.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(sub)
    return parser


def _version() -> str:
    from wxtui import __version__

    return __version__


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        if args.command is None and "wxtui.ui.commands" in COMMAND_MODULES:
            from wxtui.ui.commands import cmd_default  # `wxtui` alone opens the app

            func = cmd_default
        elif args.command is None:
            parser.print_help()
            return 0
        else:
            parser.print_help()
            return 2
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
