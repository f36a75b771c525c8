"""Lists of ids from a file or standard input, read with limits.

`--file /dev/zero` would fill memory, a FIFO nobody writes to would block the open forever,
and a closed standard input has nothing to read: each is refused with a sentence instead.
A list of a million openids is about 29 MB, so the limits leave room for any real list.
"""

from __future__ import annotations

import os
import stat
import sys

from wxtui.cli.argtypes import shown

MAX_BYTES = 128 * 1024 * 1024
MAX_LINE = 4096
_CHUNK = 1 << 20


class ListFileError(Exception):
    """The list cannot be read; str() says why and what to do."""


def read_lines(path: str | os.PathLike | None, *, max_bytes: int | None = None,
               max_line: int | None = None) -> list[str]:
    """The lines of the file at `path` (None: standard input), decoded as UTF-8 (a BOM is
    dropped, undecodable bytes replaced)."""
    max_bytes = MAX_BYTES if max_bytes is None else max_bytes
    max_line = MAX_LINE if max_line is None else max_line
    if path is None:
        return _decode(_read_stdin(max_bytes), "standard input", max_line)
    label = shown(os.fspath(path), 200)
    try:
        # O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise ListFileError(f"cannot read {label}: it does not exist") from None
    except IsADirectoryError:
        raise ListFileError(f"cannot read {label}: it is a folder; give a file with one id per line") from None
    except PermissionError:
        raise ListFileError(f"cannot read {label}: permission denied") from None
    except OSError as exc:
        raise ListFileError(f"cannot read {label}: {exc.strerror}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = ("a folder" if stat.S_ISDIR(mode) else "a named pipe (FIFO)" if stat.S_ISFIFO(mode)
                    else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket"
                    if stat.S_ISSOCK(mode) else "not a regular file")
            raise ListFileError(f"cannot read {label}: it is {kind}, not a regular file: save the list to a file, or "
                                "pipe it in with --stdin")
        size = os.fstat(fd).st_size
        if size > max_bytes:
            raise ListFileError(f"cannot read {label}: it is {size:,} bytes: more than the {max_bytes:,} a list may be "
                                "(split it into several files)")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise ListFileError(f"cannot read {label}: {exc.strerror}") from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise ListFileError(f"cannot read {label}: it is more than {max_bytes:,} bytes (split it into several files)")
    return _decode(data, label, max_line)


def _read_stdin(max_bytes: int) -> bytes:
    stream = sys.stdin
    if stream is None or getattr(stream, "closed", False):
        raise ListFileError("--stdin: standard input is closed; pipe the list in (… | wxtui tag … --stdin) "
                            "or give --file PATH")
    buffer = getattr(stream, "buffer", None)
    chunks, total = [], 0
    try:
        while True:
            chunk = buffer.read(_CHUNK) if buffer is not None else stream.read(_CHUNK).encode("utf-8", "replace")
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:
                raise ListFileError(f"standard input gave more than {max_bytes:,} bytes: that is not a list "
                                    "of ids (split it into several runs)")
    except (OSError, ValueError) as exc:  # ValueError: I/O operation on a closed file
        raise ListFileError(f"--stdin: standard input cannot be read ({exc})") from None
    return b"".join(chunks)


def _decode(data: bytes, label: str, max_line: int) -> list[str]:
    if b"\0" in data[:_CHUNK]:
        raise ListFileError(f"{label} holds binary data (NUL bytes), not a list of ids")
    lines = data.decode("utf-8", errors="replace").removeprefix("\ufeff").splitlines()
    for number, line in enumerate(lines, start=1):
        if len(line) > max_line:
            raise ListFileError(f"{label}, line {number:,}: {len(line):,} characters long; a line holds one id "
                                f"(at most {max_line:,} characters)")
    return lines
