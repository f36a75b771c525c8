"""The local cache of one account: opening, transactions, reads by id, and the sync's writes.

One writer connection (guarded by a lock, usable from any thread) and one read connection per
other thread, so a view can count in a background thread while the sync writes (WAL lets
readers and one writer run together). A thread inside `transaction()` reads through the writer
and so sees its own uncommitted writes.

Several processes share the file (the app, `wxtui sync`, a job). A write transaction begins
with BEGIN IMMEDIATE: it takes the write lock before it reads anything, waiting up to
BUSY_TIMEOUT_S for another writer. A DEFERRED transaction that reads first and writes later
cannot wait: SQLite fails its first write at once with "database is locked" when another
process wrote meanwhile, whatever the busy timeout. Writes stay short (a page of the sync, a
batch of a job's results), so the wait is short too.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from sqlite_utils import Database

from wxtui.core import paths

from . import trouble
from .filters import FollowerRow, NEWEST_FIRST, Filter, Sort, TagRow
from .schema import migrate
from .passes import SyncWrites
from .writes import WriteThrough

# SQLite's default limit is 32766 host parameters; stay well below it per statement.
ID_CHUNK = 500
# How long a write waits for another process's write to end. The longest one is the swap at
# the end of a sync of a large account (seconds at a million followers).
BUSY_TIMEOUT_S = 30.0
# Every table the cache needs; one missing means the file was damaged or tampered with.
TABLES = ("tags", "followers", "memberships", "blacklist", "meta", "selections", "selection_members",
          "sync_replay", "jobs", "job_calls", "job_failures", "segments", "rules", "follower_sets",
          "follower_sets_state")

_ROW_SQL = """
SELECT f.id, f.openid, f.remark, f.subscribe_time, f.scene, f.language,
       (SELECT group_concat(m.tagid) FROM memberships m WHERE m.follower = f.id),
       EXISTS (SELECT 1 FROM blacklist b WHERE b.openid = f.openid),
       f.unionid, f.qr_scene, f.qr_scene_str
FROM followers f WHERE f.id IN ({marks})
"""

def _row(r: tuple) -> FollowerRow:
    tagids = tuple(sorted(int(t) for t in r[6].split(","))) if r[6] else ()
    return FollowerRow(r[0], r[1], r[2], r[3], r[4], r[5], tagids, bool(r[7]), r[8], r[9], r[10])


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: transactions are explicit (sqlite-utils' atomic(), BEGIN/COMMIT);
    # the driver must not open implicit ones that would stay open behind our back.
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_S)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA cache_size = -65536")  # 64 MB: the hot indexes of a 1M cache fit
    return conn


class Store(SyncWrites, WriteThrough):
    """The cache of one account. Open it with Store.open(path); close it when done."""

    # The file opened last in this process: what a damaged page found later belongs to.
    last_opened: Path | None = None

    def __init__(self, path: Path, conn: sqlite3.Connection):
        self.path = path
        self.conn = conn
        self.db = Database(conn)
        self._lock = threading.RLock()
        self._writer_thread: int | None = None
        self._depth = 0
        self._readers: dict[int, sqlite3.Connection] = {}
        self._readers_lock = threading.Lock()
        self._aborted: BaseException | None = None

    @classmethod
    def open(cls, path: Path | str) -> "Store":
        """Open (creating or upgrading) the cache file: mode 0600, WAL, schema migrated.
        Raises trouble.CacheTrouble, saying what is wrong and what to do, when the file cannot
        be used (damaged, not a file, unwritable, busy, disk full); it is never deleted."""
        path = Path(path)
        Store.last_opened = path
        trouble.check_path(path)
        store = None
        try:
            store = cls._open(path)
            store._check_tables()
            return store
        except Exception as exc:
            if store is not None:
                store.close()
            found = trouble.translate(path, exc, lambda: _holders(path))
            if found is None:
                raise
            if found.kind == trouble.BUSY:
                found = trouble.busy(path, BUSY_TIMEOUT_S, _holders(path))
            raise found from None

    @classmethod
    def _open(cls, path: Path) -> "Store":
        if not os.path.lexists(path):
            paths.create_private_file(path)
        conn = _connect(path)
        conn.execute("PRAGMA journal_mode = WAL")
        # NORMAL is safe with WAL (a power cut may lose the last commits, never corrupt); the
        # sync re-fetches whatever a lost commit held.
        conn.execute("PRAGMA synchronous = NORMAL")
        # The swap at the end of a pass writes ~100 MB to the WAL at 1M followers; give the
        # space back after the checkpoint instead of keeping a WAL that large for good.
        conn.execute("PRAGMA journal_size_limit = 67108864")
        store = cls(path, conn)
        try:
            with store.transaction():
                migrate(store.db)
        except BaseException:
            store.close()
            raise
        for suffix in ("-wal", "-shm"):
            side = Path(str(path) + suffix)
            if side.exists():
                side.chmod(0o600)
        return store

    def _check_tables(self) -> None:
        found = {r[0] for r in self._read("SELECT name FROM sqlite_master WHERE type = 'table'")}
        missing = [t for t in TABLES if t not in found]
        if missing:
            raise trouble.damaged(self.path, f"table {', '.join(missing)} is missing")

    @classmethod
    def open_account(cls, account_key: str) -> "Store":
        return cls.open(paths.cache_db(account_key))

    def close(self) -> None:
        """Close the cache. A query another thread is running at this moment (a count the app
        started just before it quit) is interrupted, and its connection is left to close when
        that thread lets go of it (closing a connection under a running query crashes the
        process). Everything written is copied from the WAL into the file first, as closing
        the last connection would."""
        me = threading.get_ident()
        alive = {t.ident for t in threading.enumerate()}
        with self._readers_lock:
            readers, self._readers = self._readers, {}
        while readers:  # popped, so that no reference to a connection in use stays here
            ident, reader = readers.popitem()
            if ident == me or ident not in alive:
                reader.close()
            else:
                reader.interrupt()
            del reader
        with self._lock:
            try:
                self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error:  # busy, or the file is gone: the next open checkpoints it
                pass
            self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- transactions and connections ----------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator["Store"]:
        """Everything inside commits together or not at all; nests (as savepoints). The
        outermost level takes the write lock first (BEGIN IMMEDIATE, see the module's doc)."""
        with self._lock:
            self._depth += 1
            self._writer_thread = threading.get_ident()
            try:
                if self._depth > 1:
                    if not self.conn.in_transaction:
                        # SQLite rolled the outer transaction back (a full disk does): nothing
                        # more may be written in it, nor in a new one taken for it unasked.
                        raise self._aborted or sqlite3.OperationalError("the transaction was rolled back")
                    try:
                        with self.db.atomic():  # a savepoint
                            yield self
                    except BaseException as exc:
                        if not self.conn.in_transaction and self._aborted is None:
                            # SQLite rolled the whole transaction back (a full disk does):
                            # the outer level must not commit what is left as if it stood.
                            self._aborted = exc
                        raise
                else:
                    self._aborted = None
                    self._begin_immediate()
                    try:
                        yield self
                    except BaseException:
                        if self.conn.in_transaction:
                            self.conn.execute("ROLLBACK")
                        raise
                    if self._aborted is not None:
                        aborted, self._aborted = self._aborted, None
                        raise aborted
                    try:
                        self.conn.execute("COMMIT")
                    except BaseException:
                        if self.conn.in_transaction:
                            self.conn.execute("ROLLBACK")
                        raise
            finally:
                self._depth -= 1
                if not self._depth:
                    self._writer_thread = None

    def _begin_immediate(self) -> None:
        started = time.monotonic()
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            found = trouble.translate(self.path, exc)
            if found is None:
                raise
            if found.kind == trouble.BUSY:
                found = trouble.busy(self.path, time.monotonic() - started, _holders(self.path))
            raise found from None

    def reader(self) -> sqlite3.Connection:
        """The connection this thread should read through."""
        me = threading.get_ident()
        if self._writer_thread == me:
            return self.conn
        with self._readers_lock:
            conn = self._readers.get(me)
            if conn is None:
                self._forget_dead_readers()
                conn = _connect(self.path)
                conn.execute("PRAGMA query_only = ON")
                self._readers[me] = conn
            return conn

    def _forget_dead_readers(self) -> None:
        alive = {t.ident for t in threading.enumerate()}
        for ident in [i for i in self._readers if i not in alive]:
            self._readers.pop(ident).close()

    def _read(self, sql: str, params: Sequence = ()) -> list[tuple]:
        return self.reader().execute(sql, params).fetchall()

    def _scalar(self, sql: str, params: Sequence = ()):
        row = self.reader().execute(sql, params).fetchone()
        return row[0] if row else None

    # ---- metadata --------------------------------------------------------------------------

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        value = self._scalar("SELECT value FROM meta WHERE key = ?", (key,))
        return default if value is None else value

    def set_meta(self, key: str, value: str | None) -> None:
        with self.transaction():
            if value is None:
                self.conn.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def last_synced_at(self) -> float | None:
        """When the last full sync finished (unix seconds), or None if none has."""
        value = self.get_meta("sync.finished_at")
        return float(value) if value else None

    # ---- reads -----------------------------------------------------------------------------

    def tags(self) -> list[TagRow]:
        return [TagRow(*r) for r in self._read("SELECT id, name, count FROM tags ORDER BY id")]

    def values_present(self, kind: str) -> set[str] | None:
        """The scenes ("scene") or languages ("language") some cached follower has; None when
        the cache cannot say at once (its follower sets are being rebuilt)."""
        from . import followersets

        return followersets.present(self.reader(), kind)

    def why_nobody(self, flt: Filter) -> str:
        """Why a filter matches nobody when no follower has its scene or language (a typo,
        most often), with those there are; "" otherwise (see query.absent_values)."""
        from .query import absent_values

        return absent_values(flt, self.values_present("scene") if flt.scenes else None,
                             self.values_present("language") if flt.languages else None)

    def tag_names(self) -> dict[int, str]:
        return dict(self._read("SELECT id, name FROM tags"))

    def tag_counts(self) -> dict[int, int]:
        return dict(self._read("SELECT id, count FROM tags"))

    def follower_count(self) -> int:
        from .followersets import FOLLOWER_COUNT_SQL

        return self._scalar(FOLLOWER_COUNT_SQL)

    def blacklist(self) -> list[str]:
        return [r[0] for r in self._read("SELECT openid FROM blacklist ORDER BY openid")]

    def blacklist_count(self) -> int:
        return self._scalar("SELECT count(*) FROM blacklist")

    def rows_by_ids(self, ids: Sequence[int]) -> list[FollowerRow | None]:
        """The rows of these ids, in the same order; None where a row no longer exists."""
        found: dict[int, FollowerRow] = {}
        conn = self.reader()
        for start in range(0, len(ids), ID_CHUNK):
            chunk = ids[start : start + ID_CHUNK]
            sql = _ROW_SQL.format(marks=",".join("?" * len(chunk)))
            for r in conn.execute(sql, list(chunk)):
                found[r[0]] = _row(r)
        return [found.get(i) for i in ids]

    def row_by_openid(self, openid: str) -> FollowerRow | None:
        ids = self.follower_ids([openid])
        return self.rows_by_ids([ids[openid]])[0] if openid in ids else None

    def follower_ids(self, openids: Iterable[str]) -> dict[str, int]:
        """Row id of each openid the cache knows (unknown ones are absent)."""
        out: dict[str, int] = {}
        conn = self.reader()
        for chunk in _chunks(list(openids), ID_CHUNK):
            sql = f"SELECT openid, id FROM followers WHERE openid IN ({','.join('?' * len(chunk))})"
            out.update(conn.execute(sql, chunk).fetchall())
        return out

    def openids_of(self, ids: Sequence[int]) -> dict[int, str]:
        out: dict[int, str] = {}
        conn = self.reader()
        for chunk in _chunks(list(ids), ID_CHUNK):
            sql = f"SELECT id, openid FROM followers WHERE id IN ({','.join('?' * len(chunk))})"
            out.update(conn.execute(sql, chunk).fetchall())
        return out

    def tag_ids_of(self, openids: Iterable[str]) -> dict[str, tuple[int, ...]]:
        """The cached tag ids of each known openid (unknown openids are absent)."""
        out: dict[str, tuple[int, ...]] = {}
        conn = self.reader()
        for chunk in _chunks(list(openids), ID_CHUNK):
            sql = ("SELECT f.openid, (SELECT group_concat(m.tagid) FROM memberships m "
                   "WHERE m.follower = f.id) FROM followers f "
                   f"WHERE f.openid IN ({','.join('?' * len(chunk))})")
            for openid, tags in conn.execute(sql, chunk):
                out[openid] = tuple(sorted(int(t) for t in tags.split(","))) if tags else ()
        return out

    def view(self, filter: Filter | None = None, sort: Sort = NEWEST_FIRST):
        from .views import View

        return View(self, filter or Filter(), sort)

    def selection(self, name: str = "main"):
        """The selection of this name (created empty the first time)."""
        from .selections import Selection

        return Selection.named(self, name)

def _holders(path: Path) -> list[str]:
    from wxtui.jobs.locks import holders

    return holders(path)


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
