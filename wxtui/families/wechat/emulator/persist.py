"""The demo emulator on disk: a columnar snapshot, and a log of every change made since.

A snapshot is one file: a magic line, a JSON header line (format version, seed, tags, quotas,
the byte length and a BLAKE2b digest of each column), then the columns as raw bytes (openid
tails, subscribe times, codes, remarks as one JSON list, tag members and the blacklist as
arrays of row numbers). At a million followers it is ~40 MB, written and read in about a
second, against minutes of rebuilding the demo and re-syncing it.

A snapshot alone would lose what happened since it was written when the process is killed.
So every change the API makes (a tagging call, a blacklisting, a new tag, a remark) is also
appended to the change log as one JSON line and flushed to the OS before the call answers:
`kill -9` loses nothing (only a power cut may lose the OS's unwritten pages). Loading reads
the snapshot and replays the log; a clean exit writes a new snapshot and empties the log.

Anything unreadable (another format version, a bad digest, a log line that is not the last
and does not parse) raises StateUnreadable; the caller sets the files aside and starts over.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys
from array import array
from collections import Counter
from pathlib import Path
from typing import IO

from pyroaring import BitMap

from wxtui.families.wechat import limits

from .openids import OpenidColumn

MAGIC = b"wxtui emulator state\n"
FORMAT_VERSION = 1
_ROW_TYPE = "I"  # row numbers of tag members and the blacklist (4 bytes: up to 4 billion rows)


class StateUnreadable(Exception):
    """The kept state cannot be used; str() says why, in words for the user."""


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _rows(values) -> bytes:
    return array(_ROW_TYPE, values).tobytes()


def save_state(emulator, path: Path) -> int:
    """Write the emulator's one account to `path` atomically (a temporary file, fsync, rename);
    returns the bytes written. Call it between API calls (the event loop's thread)."""
    acct = emulator.account
    columns: list[tuple[str, bytes]] = [
        ("openid_tails", acct._openids.tails()),
        ("subscribed", bytes(acct._subscribed)),
        ("subscribe_time", acct._subscribe_time.tobytes()),
        ("language", bytes(acct._language)),
        ("scene", bytes(acct._scene)),
        ("qr", bytes(acct._qr)),
        ("has_unionid", bytes(acct._has_unionid)),
        ("tag_count", bytes(acct._tag_count)),
        ("remarks", json.dumps(acct._remarks, ensure_ascii=False).encode("utf-8")),
        ("blacklist", _rows(acct._blacklisted)),
    ]
    columns += [(f"tag:{t}", _rows(members)) for t, members in acct._members.items()]
    quotas = acct.quotas
    header = {
        "version": FORMAT_VERSION,
        "byteorder": sys.byteorder,
        "seed": emulator.seed,
        "name": acct.name,
        "appid": acct.appid,
        "prefix": acct.prefix,
        "followers": acct.row_count(),
        "tags": [[t, acct._tag_names[t], acct._tag_born[t]] for t in acct._tag_names],
        "next_tag_id": acct._next_tag_id,
        "rng": _rng_state(acct.rng),
        "quotas": {"limits": quotas._limits, "used": dict(quotas._used), "day": quotas._day,
                   "clears": [[y, m, n] for (y, m), n in quotas._clears.items()]},
        "clock": emulator.clock.now(),
        "columns": [[name, len(data), _digest(data)] for name, data in columns],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(MAGIC)
        out.write(json.dumps(header, ensure_ascii=False).encode("utf-8") + b"\n")
        for _, data in columns:
            out.write(data)
        out.flush()
        os.fsync(out.fileno())
        size = out.tell()
    os.replace(temporary, path)
    return size


def _rng_state(rng: random.Random) -> list:
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]


def load_state(path: Path, log_path: Path | None = None):
    """The emulator kept in `path` (its change log replayed); StateUnreadable when it cannot be."""
    from .app import Emulator
    from wxtui.emulation.faults import Clock

    try:
        with open(path, "rb") as handle:
            if handle.readline() != MAGIC:
                raise StateUnreadable("it is not a wxtui emulator state file")
            header = json.loads(handle.readline().decode("utf-8"))
            if not isinstance(header, dict) or header.get("version") != FORMAT_VERSION:
                found = header.get("version") if isinstance(header, dict) else None
                raise StateUnreadable(f"it was written in format {found!r} and this wxtui reads "
                                      f"format {FORMAT_VERSION}")
            columns = {}
            for name, size, digest in header["columns"]:
                data = handle.read(size)
                if len(data) != size or _digest(data) != digest:
                    raise StateUnreadable(f"its column {name!r} is damaged (cut short or changed)")
                columns[name] = data
            emulator = Emulator(seed=header["seed"], clock=Clock(start=header["clock"]))
            acct = emulator.add_account(name=header["name"], followers=0, seed=header["seed"])
            if (acct.appid, acct.prefix) != (header["appid"], header["prefix"]):
                raise StateUnreadable("its AppID does not match its seed")
            _fill(acct, header, columns)
    except (StateUnreadable, FileNotFoundError):
        raise
    except (OSError, ValueError, KeyError, TypeError, IndexError, UnicodeError) as exc:
        raise StateUnreadable(f"it cannot be read ({type(exc).__name__}: {exc})") from None
    if log_path is not None:
        replay_changes(acct, log_path)
    return emulator


def _array(kind: str, data: bytes, byteorder: str) -> array:
    values = array(kind)
    values.frombytes(data)
    if byteorder != sys.byteorder:
        values.byteswap()
    return values


def _fill(acct, header: dict, columns: dict[str, bytes]) -> None:
    order = header["byteorder"]
    n = header["followers"]
    tail = limits.OPENID_LENGTH - limits.OPENID_PREFIX_LENGTH
    tails = columns["openid_tails"].decode("ascii")
    if len(tails) != n * tail:
        raise StateUnreadable("its follower count does not match its openids")
    acct._openids = OpenidColumn(acct.prefix, tails)
    acct._subscribed = bytearray(columns["subscribed"])
    acct._subscribe_time = _array("q", columns["subscribe_time"], order)
    acct._language = bytearray(columns["language"])
    acct._scene = bytearray(columns["scene"])
    acct._qr = bytearray(columns["qr"])
    acct._has_unionid = bytearray(columns["has_unionid"])
    acct._tag_count = bytearray(columns["tag_count"])
    acct._remarks = json.loads(columns["remarks"].decode("utf-8"))
    if not all(len(c) == n for c in (acct._subscribed, acct._subscribe_time, acct._language, acct._scene,
                                      acct._qr, acct._has_unionid, acct._tag_count, acct._remarks)):
        raise StateUnreadable("its columns are not all as long as its follower count")
    acct._blacklisted = BitMap(_array(_ROW_TYPE, columns["blacklist"], order))
    acct._tag_names, acct._members, acct._tag_born = {}, {}, {}
    for tagid, name, born in header["tags"]:
        acct._tag_names[tagid] = name
        acct._tag_born[tagid] = born
        acct._members[tagid] = BitMap(_array(_ROW_TYPE, columns[f"tag:{tagid}"], order))
    acct._next_tag_id = header["next_tag_id"]
    version, internal, gauss = header["rng"]
    acct.rng.setstate((version, tuple(internal), gauss))
    quotas = header["quotas"]
    acct.quotas._limits = dict(quotas["limits"])
    acct.quotas._used = Counter(quotas["used"])
    acct.quotas._day = quotas["day"]
    acct.quotas._clears = Counter({(y, m): k for y, m, k in quotas["clears"]})


# ---- the change log ---------------------------------------------------------------------------


class ChangeLog:
    """Appends each change of an account as a JSON line, flushed before the call answers."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600)
        self.path = path
        self._file: IO[str] | None = os.fdopen(fd, "a", encoding="utf-8")

    def __call__(self, *change) -> None:
        if self._file is None:
            return
        self._file.write(json.dumps(change, ensure_ascii=False) + "\n")
        self._file.flush()

    def empty(self) -> None:
        """After a snapshot: what the log held is in it."""
        if self._file is not None:
            self._file.truncate(0)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def replay_changes(acct, log_path: Path) -> int:
    """Apply the log's changes to the account loaded from the snapshot; returns how many.
    A last line cut short (the process killed while writing it) is left out: its call had not
    answered, so its job resumes it."""
    try:
        text = log_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return 0
    except (OSError, UnicodeError) as exc:
        raise StateUnreadable(f"its change log cannot be read ({exc})") from None
    # Every complete change ends with a newline: what follows the last one is "" or a line cut short.
    complete = text.split("\n")[:-1]
    changes = 0
    saved, acct.changes = acct.changes, None
    try:
        for number, line in enumerate(complete, 1):
            try:
                change = json.loads(line)
                _apply(acct, change)
            except Exception as exc:  # any line that does not apply means the log is not this state's
                raise StateUnreadable(f"line {number:,} of its change log does not apply "
                                      f"({type(exc).__name__})") from None
            changes += 1
    finally:
        acct.changes = saved
    return changes


def _apply(acct, change: list) -> None:
    kind, *args = change
    if kind == "tag":
        acct.tag_rows(args[1], args[0])
    elif kind == "untag":
        acct.untag_rows(args[1], args[0])
    elif kind == "blacklist":
        acct.blacklist_rows(args[1], args[0])
    elif kind == "create_tag":
        tagid, name, born = args
        if acct.create_tag(name, born=born) != tagid:
            raise ValueError("tag ids out of step")
    elif kind == "rename_tag":
        acct.update_tag(args[0], args[1])
    elif kind == "delete_tag":
        acct.delete_tag(args[0])
    elif kind == "remark":
        acct.set_remark(args[0], args[1])
    elif kind == "unfollow":
        acct.remove_followers(args[0])
    elif kind == "follow":
        suffixes, times, languages, scenes, qr, unionids, remarks = args
        acct.append_followers(suffixes, array("q", times), bytes(languages), bytes(scenes), bytes(qr),
                              bytes(unionids), remarks)
    else:
        raise ValueError(f"unknown change {kind!r}")
