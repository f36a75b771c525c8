"""Argument types shared by the commands: a clear message for a bad value, never a traceback.

One parser for every whole number on the command line (counts, ids, ports, seeds), with the
range the value must fall in: `int()` alone accepts what a person would not call a number
(a superscript ² passes str.isdigit() and then fails int(); "１２" in full-width digits is
accepted) and lets through numbers SQLite or bind(2) cannot hold.
"""

from __future__ import annotations

import argparse
import re

# SQLite's INTEGER is a signed 64-bit number.
SQLITE_MAX = 2**63 - 1
# A demo of more followers than this does not fit in memory on an ordinary machine.
MAX_DEMO_FOLLOWERS = 2_000_000
# Text that enters a search or a profile: longer than this is a mistake, not a search.
MAX_TEXT = 1_000
# What shown() keeps of a person's input when it echoes it back.
SHOWN_CHARS = 60

_NUMBER = re.compile(r"[+-]?[0-9]+")


def escape_control(text: str) -> str:
    """Text with its control characters (escape codes, newlines, bidi overrides) written as
    escapes, so that echoing it cannot act on the terminal (see wxtui.core.outside_text)."""
    from wxtui.core.outside_text import visible

    return visible(text)


def shown(text: str, limit: int = SHOWN_CHARS) -> str:
    """User input, quoted for a message: control characters escaped, long input cut."""
    text = str(text)
    cut = len(text) > limit
    body = escape_control(text[: limit - 1] if cut else text).replace("'", "\\'")
    return "'" + body + ("…" if cut else "") + "'"


def parse_int(text: str, *, low: int | None = None, high: int | None = None, what: str = "the number") -> int:
    """A whole number written with ASCII digits (and , or _ between thousands), in [low, high];
    ValueError with a sentence otherwise."""
    raw = str(text).strip()
    compact = raw.replace(",", "").replace("_", "")
    if len(compact) > 40 or not _NUMBER.fullmatch(compact):
        raise ValueError(f"{shown(raw)} is not a whole number")
    value = int(compact)
    if low is not None and value < low:
        raise ValueError(f"{value} is too small: {what} must be at least {low:,}")
    if high is not None and value > high:
        raise ValueError(f"{_short(compact)} is too large: {what} must be at most {high:,}")
    return value


def _short(digits: str) -> str:
    return digits if len(digits) <= 20 else digits[:8] + "…" + f" ({len(digits)} digits)"


def int_arg(low: int | None = None, high: int | None = None, what: str = "the number"):
    """An argparse type: parse_int with this range."""

    def parse(text: str) -> int:
        try:
            return parse_int(text, low=low, high=high, what=what)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = what  # argparse names the type in its messages
    return parse


def positive_int(text: str) -> int:
    """A count such as 8, 100000, 100,000 or 100_000; more than zero."""
    try:
        value = parse_int(text, what="a count", high=SQLITE_MAX)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} must be more than 0")
    return value


job_id = int_arg(1, SQLITE_MAX, "a job number")
port = int_arg(0, 65535, "a port")
seed = int_arg(0, SQLITE_MAX, "a seed")
demo_followers = int_arg(1, MAX_DEMO_FOLLOWERS, "the demo's followers")
count = int_arg(0, SQLITE_MAX, "a count")


def seconds(text: str) -> float:
    """A duration in seconds, more than 0 and at most a day."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{shown(text)} is not a number of seconds") from None
    if not 0 < value <= 86_400:  # NaN fails this too
        raise argparse.ArgumentTypeError(f"{shown(text)} must be more than 0 seconds and at most a day")
    return value


def bounded_text(limit: int = MAX_TEXT, what: str = "text"):
    """An argparse type for free text: at most `limit` characters, no NUL."""

    def parse(text: str) -> str:
        if len(text) > limit:
            raise argparse.ArgumentTypeError(f"{what} of {len(text):,} characters is too long (at most {limit:,})")
        if "\0" in text:
            raise argparse.ArgumentTypeError(f"{what} holds a NUL character")
        return text

    parse.__name__ = what
    return parse


def account_name(text: str) -> str:
    """An account's name as given to --account: an empty one is a mistake, not the default."""
    if not text.strip():
        raise argparse.ArgumentTypeError("needs an account's name (see: wxtui account list); "
                                         "leave --account out for the default account")
    return text
