"""The exit status of every command, in one table: scripts can rely on each number meaning one
thing whichever command they run. The --help of the commands and the README show this table."""

from __future__ import annotations

import argparse

OK = 0
FAILED = 1
NOT_DONE = 2
RESUMABLE = 3
INTERRUPTED = 130
OUTPUT_CLOSED = 141  # 128 + SIGPIPE, as a shell reports a tool that wrote into a closed pipe

TABLE = (
    (OK, "done"),
    (FAILED, "something failed: what failed is listed (openids, calls, checks)"),
    (NOT_DONE, "nothing was done: bad input, no usable account, a plan with errors, or declined"),
    (RESUMABLE, "paused (a quota ran out) or cancelled: run the sync again, or `wxtui jobs resume ID`"),
    (INTERRUPTED, "interrupted (Ctrl-C); what was done is kept and resumes"),
    (OUTPUT_CLOSED, "the output was closed early (piped into `head`, say)"),
)

HEADING = "exit status:"
EPILOG = HEADING + "\n" + "\n".join(f"  {code:<4} {meaning}" for code, meaning in TABLE)


class HelpFormatter(argparse.HelpFormatter):
    """Descriptions are wrapped as usual; the exit status table keeps its lines."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith(HEADING):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def with_exit_status(**parser_kwargs):
    """Keyword arguments for add_parser() that end the command's --help with the table."""
    return {"epilog": EPILOG, "formatter_class": HelpFormatter, **parser_kwargs}
