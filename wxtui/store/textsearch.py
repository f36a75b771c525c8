"""Remark and openid search that any user text is safe in (`#`, quotes, `*`, `%`, `_`, `\\`).

Measured on the bench caches (bench/scale_bench.py, bench/view_bench.py): the demo's 30% of
followers carry a remark, and LIKE over a partial index of the non-empty remarks reads them at
~0.1 µs each, for any length of text, Chinese included. That index is kept in subscribe-time
order with the remark beside it (followers_remark_by_time), so a search in the default order
walks it newest first and stops at the first screenful of matches: a common text (one Chinese
character) answers in a millisecond, a text that matches no one costs one scan of the remarks,
never a read of the followers' rows. FTS5 trigram, measured beside it on the 1M cache (300k
remarks, a loaded machine): a 3+ character text that matches no one in 0.02 ms against ~100 ms
for the scan, but 58-89 ms, no better, for one that matches (it joins every match to sort it),
and it cannot answer one or two characters (most Chinese names are two, the common case); its
build took 11 s for the 300k remarks (~37 µs a remark: more than half the sync's budget of
20 µs a follower, at every sync). Not kept. What is kept instead (followersets.py): a bitmap of
the followers whose remark holds each character and each pair of adjacent characters, collected
by the sync as it writes; a text of one or two characters is exactly its set, a longer one the
intersection of its pairs' sets confirmed by the LIKE below, and one that matches no one is an
empty set (0.1 ms at 1M). The scan of the remarks' index answers when the sets are stale.
An openid prefix is a range of the openid index; every openid of an account starts with the
same few characters, so a short prefix matches everyone and is planned as such (see views.py).
Text never reaches SQL except as a parameter.
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


def remark_match(text: str) -> tuple[str, list]:
    """A condition on followers f that is true when the (non-empty) remark contains text; it
    names the partial index's own condition, so SQLite can read the remark from the index."""
    if "\x00" in text:
        return "f.remark != '' AND f.remark < ''", []
    return "f.remark != '' AND f.remark LIKE ? ESCAPE '\\'", [like_pattern(text)]


def openid_range(text: str) -> tuple[str, str] | None:
    """[low, high) of the openids that start with text, or None when no openid can."""
    if "\x00" in text or not _may_be_openid(text):
        return None
    return text, text + _AFTER
