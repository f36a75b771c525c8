"""Remark and openid search that any user text is safe in (`#`, quotes, `*`, `%`, `_`, `\\`).

Measured on a 1M cache with the demo's 30% of followers carrying a remark (bench/view_bench.py):
LIKE over the partial index of non-empty remarks scans 300k short strings in 25-40 ms, for
any length of text, Chinese included. FTS5 trigram would answer in ~1 ms but only for 3+ characters
(most Chinese names are 2, which need LIKE anyway), and building it costs ~15 s and ~260 MB
per million remarks: most of the sync's CPU budget (20 µs per follower).
So: LIKE with escaping, on the compact index; text never reaches SQL except as a parameter.
"""

from __future__ import annotations

# Member ids (a WeChat openid, a Tencent Cloud IM account id) are short and without spaces: text
# that could start one is also looked up in the ids' index.
_LONGEST_ID = 64
# Sorts after every id character in use, so [text, text + _AFTER) is "starts with text".
_AFTER = "\U0010ffff"


def like_pattern(text: str) -> str:
    """'%text%' with LIKE's wildcards and the escape character itself taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _may_be_openid(text: str) -> bool:
    return 0 < len(text) <= _LONGEST_ID and not any(c.isspace() for c in text)


def text_condition(text: str) -> tuple[str, list]:
    """A condition on followers f: the remark contains text, or the openid starts with it."""
    if "\x00" in text:
        # SQLite's LIKE stops reading at NUL (then "%" would match everything); no remark
        # or openid holds one.
        return "(f.remark < '')", []  # false for every row, without a constant SQLite folds
    sql = "(f.remark LIKE ? ESCAPE '\\')"
    params: list = [like_pattern(text)]
    if _may_be_openid(text):
        sql = f"({sql} OR (f.openid >= ? AND f.openid < ?))"
        params += [text, text + _AFTER]
    return sql, params


def text_candidates(text: str) -> tuple[str, list]:
    """A subquery of the matching followers (columns id, subscribe_time), reading only indexes:
    the compact one of non-empty remarks (which carries subscribe_time), and the openids'."""
    if "\x00" in text:
        return "SELECT id, subscribe_time FROM followers WHERE 0", []
    sql = ("SELECT id, subscribe_time FROM followers INDEXED BY followers_by_remark "
           "WHERE remark != '' AND remark LIKE ? ESCAPE '\\'")
    params: list = [like_pattern(text)]
    if _may_be_openid(text):
        sql += " UNION SELECT id, subscribe_time FROM followers WHERE openid >= ? AND openid < ?"
        params += [text, text + _AFTER]
    return sql, params
