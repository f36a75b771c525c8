"""The `wxtui` command: the app, and headless commands for scripts and servers.

Each command lives in the module that owns its subject; this file only wires them up. A command
module exposes `register(subparsers)`, which adds its parser(s) and sets `func` to a callable
taking the parsed args and returning an exit status. Imports stay lazy so `wxtui --help` is fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from wxtui.cli import exit_status

# Modules that add the family-neutral subcommands, in the order they appear in --help; each
# family then adds the commands only it has (its emulator, its import).
COMMAND_MODULES = (
    "wxtui.cli.accounts",
    "wxtui.cli.doctor",
    "wxtui.cli.jobs",
    "wxtui.cli.stats",
    "wxtui.cli.segments",
    "wxtui.cli.rules",
    "wxtui.cli.log",
    "wxtui.cli.sync",
    "wxtui.cli.app",
)


class _Parser(argparse.ArgumentParser):
    """argparse, with what it echoes of the command line made safe for the terminal."""

    def error(self, message: str):
        from wxtui.cli.argtypes import escape_control

        text = escape_control(message)
        if len(text) > 500:
            text = text[:499] + "…"
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {text}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="wxtui",
        **exit_status.with_exit_status(
            description="Administer the followers, tags and blacklist of a WeChat Official Account, "
                        "or the user tags of a Tencent Cloud IM app."),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    from wxtui.family import all_families

    for family in all_families():
        family.register_commands(sub)
    return parser


def _version() -> str:
    from wxtui import __version__

    return __version__


def configure_logging() -> None:
    """Log to a private, rotating file: the terminal belongs to the app and the progress bars.

    Every record passes the redacting filter on its way to the file, whichever logger sent it.
    httpx logs one line per request at INFO; this file keeps only its warnings.
    """
    import logging
    import logging.handlers

    from wxtui.core import paths
    from wxtui.core.errors import redact

    class _Redact(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            if record.name.startswith(("httpx", "httpcore")) and record.levelno < logging.WARNING:
                return False  # one line per request would drown the file
            record.msg, record.args = redact(record.getMessage()), None
            if record.exc_info:  # a traceback's text holds whatever the exception said
                record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
                record.exc_info = None
            return True

    try:
        path = paths.log_dir() / "wxtui.log"
        paths.create_private_file(path)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3,
                                                       encoding="utf-8")
    except OSError:
        return  # a read-only home must not stop the app; logging is a convenience
    handler.addFilter(_Redact())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "wxtui_log", False)]:
        root.removeHandler(old)  # main() run again in one process (tests): one file at a time
        old.close()
    handler.wxtui_log = True
    root.addHandler(handler)
    if root.level > logging.INFO:  # keep a more verbose level someone chose
        root.setLevel(logging.INFO)


def main(argv: list[str] | None = None) -> int:
    from wxtui.cli import terminal

    if terminal.opens_the_app(sys.argv[1:] if argv is None else list(argv)):
        with terminal.held():  # from the first moment: ctrl+q pressed while it loads quits
            return _main(argv)
    return _main(argv)


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        if args.command is not None:
            parser.print_help()
            return 2
        from wxtui.cli.app import cmd_default  # `wxtui` alone opens the app

        func = cmd_default
    configure_logging()
    try:
        status = int(func(args) or 0)
        sys.stdout.flush()  # output to a pipe is buffered: a reader gone early shows here
        return status
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return exit_status.INTERRUPTED
    except BrokenPipeError:
        # The reader stopped reading (`wxtui jobs | head -1`): stop quietly, as other tools do.
        _discard_closed_output()
        return exit_status.OUTPUT_CLOSED
    except Exception as exc:
        return _last_resort(exc)


def _last_resort(exc: Exception) -> int:
    """What no command caught: said in one paragraph, the details in the log, exit 1.

    The cache's troubles (damaged, busy, unwritable, full) have their own message; anything
    else is a fault of wxtui, and the log file has the traceback for a report."""
    import logging
    import sqlite3

    from wxtui.store.trouble import CacheTrouble

    if not isinstance(exc, CacheTrouble) and isinstance(exc, (sqlite3.Error, OSError)):
        # A page found damaged (or the disk full) in the middle of a command: the cache opened
        # last is the one that was being read.
        from wxtui.store import Store
        from wxtui.store.trouble import translate

        if Store.last_opened is not None:
            exc = translate(Store.last_opened, exc) or exc
    if isinstance(exc, CacheTrouble):
        logging.getLogger("wxtui").info("cache trouble: %s", exc)
        print(f"wxtui: {exc}", file=sys.stderr)
        return exit_status.FAILED
    from wxtui.core import paths
    from wxtui.cli.argtypes import escape_control
    from wxtui.families.wechat.errors import redact

    logging.getLogger("wxtui").error("unexpected error", exc_info=exc)
    if any(getattr(h, "wxtui_log", False) for h in logging.getLogger().handlers):
        where = (f"The details are in {paths.log_dir() / 'wxtui.log'}; please include them if you "
                 "report it.")
    else:  # the log folder could not be written either
        where = (f"No log could be written ({paths.log_dir()} is not writable): run it again with a "
                 "writable WXTUI_HOME to keep the details.")
    detail = escape_control(redact(str(exc)))[:300]
    print(f"wxtui: something went wrong that wxtui did not expect ({type(exc).__name__}"
          f"{': ' + detail if detail else ''}). Nothing more was done. {where}", file=sys.stderr)
    return exit_status.FAILED


def _discard_closed_output() -> None:
    """Point stdout and stderr at /dev/null, so the interpreter's last flush of what is still
    buffered for the closed pipe neither prints a traceback nor changes the exit status."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    for stream in (sys.stdout, sys.stderr):
        try:
            os.dup2(devnull, stream.fileno())
        except (OSError, ValueError, AttributeError):
            pass  # not a real file (a test's capture): nothing will flush into a pipe
    os.close(devnull)
