"""What can be wrong with an account's cache file, said so a person knows what to do.

The cache also holds the job journal, so no trouble here ever deletes it: a damaged file is
moved aside by `wxtui doctor --repair` (which keeps what the journal can still give) and the
rest is rebuilt by a sync.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

REPAIR = "wxtui doctor --repair"

# Kinds of trouble.
DAMAGED = "damaged"  # not SQLite, truncated, malformed, a table missing
NOT_A_FILE = "not_a_file"  # a folder, a device, a FIFO, a link to one
UNWRITABLE = "unwritable"  # read-only file or folder
BUSY = "busy"  # another process holds the write lock for longer than we wait
FULL = "full"  # the disk (or the file's page limit) is full

# Error texts of sqlite3 that mean the file itself is in trouble.
# "could not decode to utf-8": a text cell's bytes were changed (the record of the migrations
# applied is read on every open).
_DAMAGED_TEXTS = ("file is not a database", "database disk image is malformed", "no such table",
                  "unsupported file format",
                  "malformed database schema", "file is encrypted", "no such column",
                  # Text that is not UTF-8 where the cache only ever writes UTF-8: a damaged page.
                  "could not decode to utf-8")
_UNWRITABLE_TEXTS = ("readonly database", "unable to open database file", "disk i/o error",
                     "attempt to write a readonly")


class CacheTrouble(Exception):
    """The cache file cannot be used as it is. str() is the whole message for a person."""

    def __init__(self, path: Path | str, kind: str, what: str, todo: str):
        self.path = Path(path)
        self.kind = kind
        self.what = what
        self.todo = todo
        super().__init__(f"{what}\n  File: {self.path}\n  {todo}")

    @property
    def repairable(self) -> bool:
        """doctor --repair can help (it moves the file aside and keeps the journal)."""
        return self.kind in (DAMAGED, NOT_A_FILE)


def damaged(path: Path, detail: str) -> CacheTrouble:
    return CacheTrouble(
        path, DAMAGED, f"The account's cache file is damaged ({detail}).",
        f"It also holds the job journal, so it was left as it is. Run `{REPAIR}`: it moves the "
        "file aside (kept, with a timestamp), recovers the job journal from it, and then "
        "`wxtui sync` rebuilds the rest.")


def not_a_file(path: Path, what: str) -> CacheTrouble:
    return CacheTrouble(
        path, NOT_A_FILE, f"The account's cache is {what}, not a file wxtui can use.",
        f"Move it away yourself, or run `{REPAIR}` to move it aside, then `wxtui sync`.")


def unwritable(path: Path, detail: str = "") -> CacheTrouble:
    folder = path.parent
    home = os.environ.get("WXTUI_HOME")
    where = f" (WXTUI_HOME is {home})" if home else ""
    return CacheTrouble(
        path, UNWRITABLE,
        f"wxtui cannot write the account's cache{': ' + detail if detail else ''}.",
        f"Make the file and its folder {folder} writable by you{where}, or point WXTUI_HOME at a "
        "writable folder. Nothing was changed.")


def busy(path: Path, waited_s: float, holders: list[str]) -> CacheTrouble:
    who = "; ".join(holders) if holders else "another wxtui process (the app, a sync or a job)"
    return CacheTrouble(
        path, BUSY, f"The account's cache stayed busy for {waited_s:.0f} s: {who} is writing to it.",
        "Wait for it to finish (or stop it), then run this again. Nothing was lost.")


def full(path: Path) -> CacheTrouble:
    return CacheTrouble(
        path, FULL, "The disk holding the account's cache is full.",
        "Free some space, then run the command again: a job resumes where it stopped "
        "(wxtui jobs resume ID), a sync too. Nothing already written was lost.")


def check_path(path: Path) -> None:
    """Refuse what is not a regular file (or absent) before SQLite opens it: SQLite opens a
    folder or /dev/null without complaint and fails later in ways that say nothing useful."""
    try:
        st = os.stat(path)  # follows links: a link to /dev/null is a device
    except FileNotFoundError:
        if os.path.islink(path):
            raise not_a_file(path, f"a link to {os.readlink(path)}, which does not exist") from None
        return
    except PermissionError:
        raise unwritable(path, "its folder cannot be read") from None
    except OSError as exc:
        raise not_a_file(path, f"unreadable ({exc.strerror})") from None
    if stat.S_ISREG(st.st_mode):
        if st.st_size:
            try:
                with open(path, "rb") as handle:
                    header = handle.read(100)
            except PermissionError:
                raise unwritable(path, "it cannot be read") from None
            if not header.startswith(b"SQLite format 3\0"):
                raise damaged(path, "it is not an SQLite database")
            if len(header) < 100 or st.st_size < 512:
                raise damaged(path, f"only {st.st_size} bytes long: truncated")
            expected = _size_in_header(header)
            if expected is not None and st.st_size < expected:
                raise damaged(path, f"{st.st_size:,} bytes long where its header says {expected:,}: truncated")
        return
    kind = ("a folder" if stat.S_ISDIR(st.st_mode) else "a named pipe (FIFO)" if stat.S_ISFIFO(st.st_mode)
            else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "not a regular file")
    if os.path.islink(path):
        kind = f"a link to {os.readlink(path)} ({kind})"
    raise not_a_file(path, kind)


def _size_in_header(header: bytes) -> int | None:
    """The file's size as its header says, when the header vouches for it (SQLite file
    format, section 1.3: the page count is valid when version-valid-for equals the change
    counter)."""
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    if header[24:28] != header[92:96] or not pages or page_size < 512:
        return None
    return pages * page_size


def translate(path: Path, exc: BaseException, holders=lambda: []) -> CacheTrouble | None:
    """The CacheTrouble an sqlite3 or OS error means for this file, or None if it is not one."""
    if isinstance(exc, CacheTrouble):
        return exc
    if isinstance(exc, sqlite3.Error):
        text = str(exc).lower()
        code = getattr(exc, "sqlite_errorcode", None)
        if code == sqlite3.SQLITE_FULL or "database or disk is full" in text:
            return full(path)
        if "database is locked" in text or "database table is locked" in text:
            return busy(path, 0, holders())
        if any(t in text for t in _DAMAGED_TEXTS) or code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
            return damaged(path, str(exc))
        if any(t in text for t in _UNWRITABLE_TEXTS) or code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN,
                                                                  sqlite3.SQLITE_PERM):
            return unwritable(path, str(exc))
        return None
    if isinstance(exc, PermissionError):
        return unwritable(path, exc.strerror or "permission denied")
    if isinstance(exc, OSError) and exc.errno == 28:  # ENOSPC
        return full(path)
    if isinstance(exc, (IsADirectoryError, NotADirectoryError)):
        return not_a_file(path, exc.strerror or "not a file")
    return None
