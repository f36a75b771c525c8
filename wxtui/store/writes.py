"""Write-through: after an action succeeded on WeChat, the cache applies its effect at once.

Every view (memberships, per-tag counts, untagged, blacklist, remark search) is then right
without a new sync. Openids the cache does not know are ignored: the next sync brings them.
Each method is one transaction, or part of the caller's (`with store.transaction():`), so a
job can record its journal and the effect together.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from wxtui.wechat.models import Tag

_CHUNK = 500


class WriteThrough:
    """Mixed into Store; relies on its `conn`, `transaction()` and `follower_ids()`."""

    def apply_tagged(self, tagid: int, openids: Iterable[str]) -> int:
        """They now carry the tag; returns how many memberships are new."""
        ids = sorted(self.follower_ids(openids).values())
        added = 0
        with self.transaction():
            conn = self.conn
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
        return added

    def apply_untagged(self, tagid: int, openids: Iterable[str]) -> int:
        """They no longer carry the tag; returns how many memberships went."""
        ids = sorted(self.follower_ids(openids).values())
        removed = 0
        with self.transaction():
            conn = self.conn
            for chunk in _chunks(ids):
                marks = ",".join("?" * len(chunk))
                removed += conn.execute(
                    f"DELETE FROM memberships WHERE tagid = ? AND follower IN ({marks})", [tagid, *chunk]
                ).rowcount
                self._recount_followers(chunk)
            conn.execute("UPDATE tags SET count = max(count - ?, 0) WHERE id = ?", (removed, tagid))
        return removed

    def apply_blacklisted(self, openids: Iterable[str]) -> None:
        with self.transaction():
            self.conn.executemany("INSERT OR IGNORE INTO blacklist (openid) VALUES (?)",
                                  ((o,) for o in openids))

    def apply_unblacklisted(self, openids: Iterable[str]) -> None:
        with self.transaction():
            self.conn.executemany("DELETE FROM blacklist WHERE openid = ?", ((o,) for o in openids))

    def apply_remark(self, openid: str, remark: str) -> None:
        with self.transaction():
            self.conn.execute("UPDATE followers SET remark = ? WHERE openid = ?", (remark, openid))

    def apply_tag_created(self, tag: Tag) -> None:
        with self.transaction():
            self.conn.execute("INSERT OR REPLACE INTO tags (id, name, count) VALUES (?, ?, ?)",
                              (tag.id, tag.name, tag.count))

    def apply_tag_renamed(self, tagid: int, name: str) -> None:
        with self.transaction():
            self.conn.execute("UPDATE tags SET name = ? WHERE id = ?", (name, tagid))

    def apply_tag_deleted(self, tagid: int) -> None:
        """The tag is gone, and with it every membership of it (as on the platform)."""
        with self.transaction():
            self._drop_tag(tagid)

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

    def _decrement_tag_counts(self, tagids_sql: str, params: Sequence) -> None:
        self.conn.execute(
            f"UPDATE tags SET count = max(count - (SELECT count(*) FROM ({tagids_sql}) t "
            "WHERE t.tagid = tags.id), 0)", list(params))


def _chunks(items: list) -> Iterable[list]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
