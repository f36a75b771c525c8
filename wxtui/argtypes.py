"""Argument types shared by the commands: a clear message for a bad number, never a traceback."""

from __future__ import annotations

import argparse


def positive_int(text: str) -> int:
    """A count such as 8, 100000, 100,000 or 100_000; more than zero."""
    try:
        value = int(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be more than 0")
    return value


def account_name(text: str) -> str:
    """An account's name as given to --account: an empty one is a mistake, not the default."""
    if not text.strip():
        raise argparse.ArgumentTypeError("needs an account's name (see: wxtui account list); "
                                         "leave --account out for the default account")
    return text
