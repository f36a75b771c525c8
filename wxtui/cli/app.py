"""The commands that open the app: `wxtui` (no arguments), `wxtui demo`, `wxtui app`, `wxtui serve`.

Everything that may ask the user something on the terminal (the keyring's password, a missing
AppSecret) happens here, before the UI takes the terminal over.
"""

from __future__ import annotations

import argparse
import shlex
import sys

from wxtui.cli import argtypes
from wxtui.cli.argtypes import account_name, positive_int
from wxtui.core.outside_text import warn
from wxtui.core.session import account_opener, demo_opener
from wxtui.family import DEFAULT_FAMILY, FAMILIES

DEFAULT_SERVE_PORT = 8000
DEFAULT_MAX_SESSIONS = 2


def register(subparsers) -> None:
    demo = subparsers.add_parser(
        "demo", help="open the app on the built-in emulator (no account needed)",
        description="Open the app on an in-process WeChat emulator with demo followers. The demo "
                    "is kept between launches in the data folder (see wxtui doctor), so a job "
                    "left running resumes; --fresh starts it over.")
    demo.add_argument("--followers", type=argtypes.demo_followers, default=100_000, metavar="N",
                      help="how many demo followers (default 100,000)")
    demo.add_argument("--slow", action="store_true",
                      help="add latency and transient faults, so retries show live")
    demo.add_argument("--seed", type=argtypes.seed, default=1, help="the demo data's seed (default 1)")
    demo.add_argument("--family", choices=sorted(FAMILIES), default=None,
                      help=f"the API family of the demo (default {DEFAULT_FAMILY})")
    demo.add_argument("--fresh", action="store_true",
                      help="start the demo over (it is otherwise kept between launches: its "
                           "followers, tags, blacklist and jobs; each --followers and --seed is a demo of its own)")
    _display_options(demo)
    demo.set_defaults(func=cmd_demo)

    app = subparsers.add_parser("app", help="open the app on a configured account",
                                description="Open the app on a configured account (default: the default one).")
    app.add_argument("--account", metavar="NAME", type=account_name,
                     help="the account's name (see: wxtui account list)")
    _display_options(app)
    app.set_defaults(func=cmd_app)

    serve = subparsers.add_parser(
        "serve", help="serve the app to a browser on loopback (textual-serve)",
        description="Serve the app to a web browser. It listens on 127.0.0.1 only: from another "
                    "machine, tunnel to it with `ssh -L 8000:127.0.0.1:8000 server`. It prints "
                    "the address to open, with a token for this run that the page, its WebSocket "
                    "and its downloads require; requests from other sites are refused.")
    serve.add_argument("--port", type=port_number, default=DEFAULT_SERVE_PORT,
                       help=f"the port on 127.0.0.1 (default {DEFAULT_SERVE_PORT}; 0: any free port)")
    who = serve.add_mutually_exclusive_group()
    who.add_argument("--account", metavar="NAME", type=account_name)
    who.add_argument("--demo", action="store_true", help="serve the demo")
    serve.add_argument("--followers", type=argtypes.demo_followers, default=100_000, metavar="N",
                       help="with --demo: how many demo followers (default 100,000)")
    serve.add_argument("--token-file", metavar="PATH",
                       help="keep the token in PATH (made if missing; refused unless only its owner "
                            "can read it) so the address stays the same across runs")
    serve.add_argument("--max-sessions", type=positive_int, default=DEFAULT_MAX_SESSIONS, metavar="N",
                       help=f"app sessions (browser tabs) open at once (default {DEFAULT_MAX_SESSIONS})")
    serve.set_defaults(func=cmd_serve)


def port_number(text: str) -> int:
    """A TCP port, or 0 for any free one."""
    return argtypes.port(text)


def _display_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-mouse", action="store_true",
                        help="leave the mouse to the terminal (select and copy text as usual)")


NEEDS_TERMINAL = ("wxtui needs a terminal; use the headless commands (wxtui tag …, wxtui sync, "
                  "wxtui jobs) or ssh -t")


def has_terminal() -> bool:
    """Standard input and output are a terminal (not cron, a pipe, or `ssh host wxtui` without -t),
    or the app is served to a browser (textual-serve runs it on pipes with its web driver)."""
    import os

    if os.environ.get("TEXTUAL_DRIVER", "").endswith(":WebDriver"):
        return True
    try:
        return bool(sys.stdin and sys.stdout and sys.stdin.isatty() and sys.stdout.isatty())
    except (ValueError, OSError):  # a closed stream
        return False


def _run_app(make_app, args) -> int:
    """Build the app (importing it is most of starting) and run it, only with a terminal."""
    if not has_terminal():
        print(f"wxtui: {NEEDS_TERMINAL}", file=sys.stderr)
        return 2
    app = make_app()
    app.run(mouse=not getattr(args, "no_mouse", False))
    stopped = getattr(app, "interrupted_on_exit", None)
    if stopped:
        jobs = ", ".join(f"#{job_id}" for job_id in stopped)
        print(f"wxtui: job{'s' if len(stopped) > 1 else ''} {jobs} stopped when wxtui closed, with nothing lost: "
              f"the next start offers to resume {'them' if len(stopped) > 1 else 'it'}", file=sys.stderr)
    return int(app.return_code or 0)


def cmd_demo(args: argparse.Namespace) -> int:
    def make_app():
        from wxtui.ui.app import WxtuiApp

        opener = demo_opener(args.followers, slow=args.slow, seed=args.seed, family=args.family,
                             fresh=args.fresh)
        return WxtuiApp(opener, demo_opener=opener)

    return _run_app(make_app, args)


def _prepare_account(name: str | None):
    """The profile to open, with its secret found now (it may prompt), and the app's keymap; or
    None and an exit status."""
    from wxtui.core import secrets
    from wxtui.core.config import ConfigError, load_config

    try:
        config = load_config()
        profile = config.require(name)
    except ConfigError as exc:
        warn(exc)
        return None, 2
    if profile.needs_secret:
        from wxtui.cli import terminal

        try:
            with terminal.released():  # the keyring may ask for its password
                secrets.resolve_secret(profile, allow_prompt=True)
        except secrets.SecretUnavailable as exc:
            warn(exc)
            return None, 1
    return (profile, config.keymap), 0


def cmd_app(args: argparse.Namespace) -> int:
    prepared, status = _prepare_account(args.account)
    if prepared is None:
        return status
    profile, keymap = prepared

    def make_app():
        from wxtui.ui.app import WxtuiApp

        return WxtuiApp(account_opener(profile.name), demo_opener=demo_opener(100_000), keymap=keymap)

    return _run_app(make_app, args)


def cmd_default(args: argparse.Namespace) -> int:
    """`wxtui` alone: the default account, or the first-run screen when there is none."""
    from wxtui.core import secrets
    from wxtui.core.config import ConfigError, load_config

    try:
        config = load_config()
    except ConfigError as exc:
        warn(exc)
        return 2
    if not config.accounts:
        status = secrets.probe_keyring()
        note = "" if status.usable else (
            f"No usable keyring here ({status.problem}): the AppSecret will be kept for this "
            "session only. See `wxtui account add --help` for a secret_command or an environment variable.")

        def make_app():
            from wxtui.ui.app import WxtuiApp

            return WxtuiApp(None, demo_opener=demo_opener(100_000), keyring_note=note, keymap=config.keymap)

        return _run_app(make_app, args)
    args.account = None
    return cmd_app(args)


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        from wxtui.ui.serve import ServeError, WxtuiServer, new_token, token_from_file
    except ImportError:
        print("wxtui serve needs textual-serve: pip install 'wxtui[serve]'", file=sys.stderr)
        return 2
    from pathlib import Path

    if args.demo:
        command = [sys.executable, "-m", "wxtui", "demo", "--followers", str(args.followers)]
    else:
        command = [sys.executable, "-m", "wxtui", "app"]
        if args.account:
            command += ["--account", args.account]
    try:
        token = token_from_file(Path(args.token_file)) if args.token_file else new_token()
        server = WxtuiServer(shlex.join(command), token=token, port=args.port,
                             max_sessions=args.max_sessions,
                             announce=lambda text: print(text, flush=True))
        server.run()
    except ServeError as exc:
        print(f"wxtui serve: {exc}", file=sys.stderr)
        return 2
    return 0
