"""Write-through: after an action succeeded on WeChat, the cache applies its effect at once.

Every view (memberships, per-tag counts, untagged, blacklist, remark search) is then right
without a new sync. Openids the cache does not know are ignored: the next sync brings them.
Each method is one transaction, or part of the caller's (`with store.transaction():`), so a
job can record its journal and the effect together.
"""

from __future__ import annotations

import json
from typing import Iterable, Sequence

from wxtui.core.members import Follower, Tag

from . import followersets
from .tagsets import follow_write, kept_version

_CHUNK = 500


class WriteThrough:
    """Mixed into Store; relies on its `conn`, `transaction()` and `follower_ids()`."""

    def apply_tagged(self, tagid: int, openids: Iterable[str]) -> int:
        """They now carry the tag; returns how many memberships are new."""
        openids = self._record("apply_tagged", tagid, list(openids))
        ids = sorted(self.follower_ids(openids).values())
        added = 0
        with self.transaction():
            conn = self.conn
            kept = kept_version(conn, tagid)
            for chunk in _chunks(ids):
                before = conn.total_changes
                conn.executemany(
                    "INSERT OR IGNORE INTO memberships (follower, tagid, subscribe_time) "
                    "SELECT id, ?, subscribe_time FROM followers WHERE id = ?",
                    [(tagid, i) for i in chunk],
                )
                added += conn.total_changes - before
                self._recount_followers(chunk)
            conn.execute("UPDATE tags SET count = count + ? WHERE id = ?", (added, tagid))
            follow_write(conn, tagid, ids, True, kept)
        return added

    def apply_untagged(self, tagid: int, openids: Iterable[str]) -> int:
        """They no longer carry the tag; returns how many memberships went."""
        openids = self._record("apply_untagged", tagid, list(openids))
        ids = sorted(self.follower_ids(openids).values())
        removed = 0
        with self.transaction():
            conn = self.conn
            kept = kept_version(conn, tagid)
            for chunk in _chunks(ids):
                marks = ",".join("?" * len(chunk))
                removed += conn.execute(
                    f"DELETE FROM memberships WHERE tagid = ? AND follower IN ({marks})", [tagid, *chunk]
                ).rowcount
                self._recount_followers(chunk)
            conn.execute("UPDATE tags SET count = max(count - ?, 0) WHERE id = ?", (removed, tagid))
            follow_write(conn, tagid, ids, False, kept)
        return removed

    def apply_blacklisted(self, openids: Iterable[str]) -> None:
        openids = self._record("apply_blacklisted", list(openids))
        with self.transaction():
            self.conn.executemany("INSERT OR IGNORE INTO blacklist (openid) VALUES (?)",
                                  ((o,) for o in openids))

    def apply_unblacklisted(self, openids: Iterable[str]) -> None:
        openids = self._record("apply_unblacklisted", list(openids))
        with self.transaction():
            self.conn.executemany("DELETE FROM blacklist WHERE openid = ?", ((o,) for o in openids))

    def apply_remark(self, openid: str, remark: str) -> None:
        self._record("apply_remark", openid, remark)
        with self.transaction():
            change = followersets.before_change(self.conn, self.follower_ids([openid]).values())
            self.conn.execute("UPDATE followers SET remark = ? WHERE openid = ?", (remark, openid))
            followersets.after_change(self.conn, change)

    def apply_tag_created(self, tag: Tag) -> None:
        self._record("apply_tag_created", tag.id, tag.name, tag.count)
        with self.transaction():
            self.conn.execute("INSERT OR REPLACE INTO tags (id, name, count) VALUES (?, ?, ?)",
                              (tag.id, tag.name, tag.count))

    def apply_tag_renamed(self, tagid: int, name: str) -> None:
        self._record("apply_tag_renamed", tagid, name)
        with self.transaction():
            self.conn.execute("UPDATE tags SET name = ? WHERE id = ?", (name, tagid))

    def apply_tag_deleted(self, tagid: int) -> None:
        """The tag is gone, and with it every membership of it (as on the platform)."""
        self._record("apply_tag_deleted", tagid)
        with self.transaction():
            self._drop_tag(tagid)

    # ---- while a sync pass runs ------------------------------------------------------------

    def _record(self, op: str, *args):
        """Keep an effect for the pass in progress (its tables may already hold the old state);
        finish_pass applies it again. Every effect is idempotent, so applying twice is right.
        Returns the last argument, so that a consumed iterator can be passed on."""
        if self.get_meta("sync.pass"):
            with self.transaction():
                self.conn.execute("INSERT INTO sync_replay (op, args) VALUES (?, ?)",
                                  (op, json.dumps(args, ensure_ascii=False)))
        return args[-1] if args else None

    def _replay(self) -> int:
        """Apply the effects recorded while a pass ran; returns how many there were."""
        rows = self.conn.execute("SELECT op, args FROM sync_replay ORDER BY seq").fetchall()
        self.conn.execute("DELETE FROM sync_replay")
        for op, args in rows:
            args = json.loads(args)
            if op == "apply_tag_created":
                self.apply_tag_created(Tag(*args))
            elif op == "upsert_followers":
                self.upsert_followers([Follower(**d) for d in args[0]])
            else:
                getattr(self, op)(*args)
        return len(rows)

    # ---- shared by the sync's writes ---------------------------------------------------------

    def _drop_tag(self, tagid: int) -> None:
        conn = self.conn
        conn.execute("UPDATE followers SET tag_count = tag_count - 1 WHERE id IN "
                     "(SELECT follower FROM memberships WHERE tagid = ?)", (tagid,))
        conn.execute("DELETE FROM memberships WHERE tagid = ?", (tagid,))
        conn.execute("DELETE FROM tags WHERE id = ?", (tagid,))

    def _recount_followers(self, ids: Sequence[int]) -> None:
        marks = ",".join("?" * len(ids))
        self.conn.execute(
            "UPDATE followers SET tag_count = (SELECT count(*) FROM memberships m "
            f"WHERE m.follower = followers.id) WHERE id IN ({marks})", list(ids))


def _chunks(items: list) -> Iterable[list]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
