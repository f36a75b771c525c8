"""One emulated account: followers in columns, tags, blacklist, and the platform's rules.

A follower is a row index into parallel columns (no object per follower: openids are one column
of tails, see openids.py; tag members and the blacklist are bitmaps of rows), so a million of
them fit in about a hundred megabytes. Every rule of the API lives here and raises `ApiFailure`; the
HTTP layer only parses requests and shapes answers, and the Python API shares the same rules.
"""

from __future__ import annotations

import base64
import hashlib
import re
from array import array
from collections import Counter
from itertools import compress
from typing import Callable

from pyroaring import BitMap

from wxtui.families.wechat import limits

from wxtui.emulation.faults import Clock
from wxtui.emulation.failure import ApiFailure
from .openids import OpenidColumn
from .quotas import Quotas

STAR_TAG_NAME = "星标组"
FIRST_TAG_ID = 100  # ids of created tags start here and are never reused
UNIONID_SHARE = 0.25  # followers whose account is bound to an Open Platform account
LANGUAGES = ("zh_CN", "en", "zh_TW", "zh_HK", "ja", "ko", "fr", "de", "es", "ru")
LANGUAGE_WEIGHTS = (820, 70, 45, 25, 10, 10, 6, 6, 5, 3)
SCENES = (
    "ADD_SCENE_SEARCH", "ADD_SCENE_QR_CODE", "ADD_SCENE_PROFILE_CARD",
    "ADD_SCENE_ACCOUNT_MIGRATION", "ADD_SCENE_PAID", "ADD_SCENE_WECHAT_ADVERTISEMENT",
    "ADD_SCENE_OTHERS",
)
SCENE_WEIGHTS = (38, 27, 14, 6, 2, 5, 8)
QR_SCENE_CODE = 1  # index of ADD_SCENE_QR_CODE in SCENES
# (qr_scene, qr_scene_str) of the account's QR codes; index 0 means "not from a QR code".
QR_CODES = ((0, ""), (1001, ""), (1002, ""), (0, "store_guangzhou"), (0, "store_shenzhen"),
            (0, "expo_2024"), (2001, ""))

_OPENID_RE = re.compile(r"[A-Za-z0-9_-]{%d}" % limits.OPENID_LENGTH)


def is_wellformed_openid(value: object) -> bool:
    return isinstance(value, str) and _OPENID_RE.fullmatch(value) is not None


def make_openid_tails(rng, n: int) -> str:
    """n random 22-character tails of [A-Za-z0-9_-], concatenated: one base64url blob."""
    tail = limits.OPENID_LENGTH - limits.OPENID_PREFIX_LENGTH
    return base64.urlsafe_b64encode(rng.randbytes((n * tail * 3) // 4 + 3)).decode("ascii")[: n * tail]


def make_openid_suffixes(rng, n: int) -> list[str]:
    """n random 22-character tails of [A-Za-z0-9_-]: one base64url blob, sliced."""
    tail = limits.OPENID_LENGTH - limits.OPENID_PREFIX_LENGTH
    blob = make_openid_tails(rng, n)
    return [blob[k : k + tail] for k in range(0, n * tail, tail)]


def make_prefix(rng) -> str:
    return "o" + make_openid_suffixes(rng, 1)[0][: limits.OPENID_PREFIX_LENGTH - 1]


class Account:
    """The state of one Official Account. Public methods are the emulator's Python API."""

    def __init__(self, *, name: str, appid: str, secret: str, prefix: str, clock: Clock, rng,
                 verified: bool = True, ip_whitelist: set[str] | None = None):
        if len(prefix) != limits.OPENID_PREFIX_LENGTH or not is_wellformed_openid(prefix.ljust(limits.OPENID_LENGTH, "A")):
            raise ValueError(f"an openid prefix is {limits.OPENID_PREFIX_LENGTH} characters of [A-Za-z0-9_-]")
        self.name = name
        self.appid = appid
        self.secret = secret
        self.prefix = prefix
        self.verified = verified
        self.ip_whitelist = ip_whitelist
        self.clock = clock
        self.rng = rng
        # Follower columns, one row per follower ever seen (unfollowers stay, subscribed 0).
        self._openids = OpenidColumn(prefix)  # row -> openid, and openid -> row (get)
        self._subscribed = bytearray()
        self._subscribe_time = array("q")
        self._language = bytearray()
        self._scene = bytearray()
        self._qr = bytearray()
        self._has_unionid = bytearray()
        self._remarks: list[str] = []
        self._tag_count = bytearray()  # tags per follower, kept for the 20-tag rule
        # Tags: id -> name / member rows / creation time (emulator clock). Member rows and the
        # blacklist are compressed bitmaps: a tenth of a set's memory at a million, and they
        # iterate in row order, which is the order the platform pages them in.
        self._tag_names: dict[int, str] = {limits.STAR_TAG_ID: STAR_TAG_NAME}
        self._members: dict[int, BitMap] = {limits.STAR_TAG_ID: BitMap()}
        self._tag_born: dict[int, float] = {limits.STAR_TAG_ID: 0.0}
        self._next_tag_id = FIRST_TAG_ID
        self._blacklisted = BitMap()
        self.quotas = Quotas(clock)
        # Openids held by calls in flight (for 45169).
        self.inflight: Counter[str] = Counter()
        # Told of every change as it is made (the kept demo's change log, see persist.py).
        self.changes: Callable[..., None] | None = None

    def __repr__(self) -> str:
        return f"Account(name={self.name!r}, appid={self.appid!r}, followers={len(self._openids)})"

    # ---- followers -------------------------------------------------------------------------

    def append_followers(self, suffixes: str | list[str], times, languages: bytes, scenes: bytes,
                         qr: bytes, unionid_flags: bytes, remarks: list[str] | None = None) -> None:
        """Add rows in bulk (the demo builder and add_followers use this). `suffixes`: the openids'
        tails after the prefix, as a list or concatenated."""
        tails = suffixes if isinstance(suffixes, str) else "".join(suffixes)
        start = len(self._openids)
        self._openids.extend(tails)  # ValueError on a collision (132 random bits: practically never)
        n = len(self._openids) - start
        self._subscribed.extend(b"\x01" * n)
        self._subscribe_time.extend(times)
        self._language.extend(languages)
        self._scene.extend(scenes)
        self._qr.extend(qr)
        self._has_unionid.extend(unionid_flags)
        self._remarks.extend(remarks if remarks is not None else [""] * n)
        self._tag_count.extend(bytes(n))
        if self.changes is not None:
            if isinstance(suffixes, str):
                size = limits.OPENID_LENGTH - limits.OPENID_PREFIX_LENGTH
                suffixes = [tails[k : k + size] for k in range(0, len(tails), size)]
            self.changes("follow", suffixes, list(times), list(languages), list(scenes), list(qr),
                         list(unionid_flags), self._remarks[start:])

    def add_followers(self, n: int = 0, *, openids=()) -> list[str]:
        """New followers who follow now: the given openids (this account's prefix), then n random
        ones; returns their openids."""
        for o in openids:
            if not is_wellformed_openid(o) or not o.startswith(self.prefix):
                raise ValueError(f"{o!r} is not an openid of this account (prefix {self.prefix})")
            if o in self._openids:
                raise ValueError(f"{o!r} is already a follower (or was one)")
        rng = self.rng
        suffixes = [o[len(self.prefix):] for o in openids] + make_openid_suffixes(rng, n)
        n, start = len(suffixes), len(self._openids)
        scenes = rng.choices(range(len(SCENES)), SCENE_WEIGHTS, k=n)
        self.append_followers(
            suffixes,
            [int(self.clock.now())] * n,
            bytes(rng.choices(range(len(LANGUAGES)), LANGUAGE_WEIGHTS, k=n)),
            bytes(scenes),
            bytes(rng.randrange(1, len(QR_CODES)) if s == QR_SCENE_CODE else 0 for s in scenes),
            bytes(rng.random() < UNIONID_SHARE for _ in range(n)),
        )
        return self._openids[start:]

    def remove_followers(self, openids) -> None:
        """They unfollow: kept as subscribe 0, out of every tag and the blacklist."""
        openids = list(openids)
        for i in self._rows(openids):
            if self._subscribed[i]:
                self._subscribed[i] = 0
                for members in self._members.values():
                    members.discard(i)
                self._tag_count[i] = 0
                self._blacklisted.discard(i)
        if self.changes is not None:
            self.changes("unfollow", openids)

    def follower_openids(self) -> list[str]:
        if self.subscribed_count() == len(self._openids):
            return list(self._openids)
        return list(compress(self._openids, self._subscribed))

    def row_count(self) -> int:
        """Followers ever seen, unfollowers included."""
        return len(self._openids)

    def subscribed_count(self) -> int:
        return self._subscribed.count(1)

    def follower(self, openid: str) -> dict:
        """The follower as user/info answers; KeyError for an openid this account never had."""
        return self.info(self._known_row(openid))

    def info(self, i: int) -> dict:
        return self._info(i, self.tagids(i) if self._subscribed[i] else [])

    def infos(self, start: int, stop: int) -> list[dict]:
        """user/info's answers for the subscribed rows from start to stop, in row order. The
        rows' tags come from one pass over each tag's members in that span, not a look into
        every tag for every row."""
        span = BitMap(range(start, stop))
        tags: dict[int, list[int]] = {}
        for tagid in sorted(self._members, reverse=True):  # tagids' order: newest first
            for i in self._members[tagid] & span:
                tags.setdefault(i, []).append(tagid)
        rows = compress(range(start, stop), self._subscribed[start:stop])
        return [self._info(i, tags.get(i, [])) for i in rows]

    def _info(self, i: int, tagids: list[int]) -> dict:
        openid = self._openids[i]
        if not self._subscribed[i]:
            return {"subscribe": 0, "openid": openid}
        d = {"subscribe": 1, "openid": openid, "language": LANGUAGES[self._language[i]],
             "subscribe_time": self._subscribe_time[i]}
        if self._has_unionid[i]:
            d["unionid"] = self.unionid_of(openid)
        qr_scene, qr_scene_str = QR_CODES[self._qr[i]]
        d.update(remark=self._remarks[i], groupid=0, tagid_list=tagids,
                 subscribe_scene=SCENES[self._scene[i]], qr_scene=qr_scene, qr_scene_str=qr_scene_str)
        return d

    def unionid_of(self, openid: str) -> str:
        digest = hashlib.blake2b(openid.encode(), digest_size=18, key=self.appid.encode()).digest()
        return "o6_bm" + base64.urlsafe_b64encode(digest).decode()[:23]

    def set_remark(self, i: int, remark: str) -> None:
        if not isinstance(remark, str) or len(remark.encode("utf-8")) >= limits.MAX_REMARK_BYTES:
            raise ApiFailure(40092)
        self._remarks[i] = remark
        if self.changes is not None:
            self.changes("remark", i, remark)

    # ---- openid checks ---------------------------------------------------------------------

    def row(self, openid: object, *, subscribed: bool = True) -> int:
        """The row of a follower; 40003 (malformed, unknown, unfollowed) or 49003 (another account)."""
        i = self._openids.get(openid)
        if i is None or (subscribed and not self._subscribed[i]):
            if i is None and is_wellformed_openid(openid) and not openid.startswith(self.prefix):
                raise ApiFailure(49003)
            raise ApiFailure(40003)
        return i

    def has_openid(self, openid: str) -> bool:
        """Whether this account ever had this follower (unfollowers included)."""
        return openid in self._openids

    def _known_row(self, openid: str) -> int:
        i = self._openids.get(openid)
        if i is None:
            raise KeyError(openid)
        return i

    def _rows(self, openids) -> list[int]:
        return [self._known_row(o) for o in openids]

    # ---- tags ------------------------------------------------------------------------------

    def tags(self) -> dict[int, tuple[str, int]]:
        return {t: (name, len(self._members[t])) for t, name in self._tag_names.items()}

    def tag_members(self, tagid: int) -> set[str]:
        names = self._openids
        return {names[i] for i in self._members[tagid]}

    def tagids(self, i: int) -> list[int]:
        if not self._tag_count[i]:
            return []
        # Newest tag first, the star group last, as in the platform's example ([134, 2]).
        return sorted((t for t, members in self._members.items() if i in members), reverse=True)

    def tags_of(self, openid: str) -> list[int]:
        return self.tagids(self._known_row(openid))

    def user_tag_count(self) -> int:
        return len(self._tag_names) - 1  # the star group is the platform's

    def tag(self, tagid: object, propagation_s: float = 0.0) -> int:
        """A usable tag id, or 45159 (unknown, or created less than propagation_s ago)."""
        tagid = _as_tagid(tagid)
        if tagid not in self._tag_names:
            raise ApiFailure(45159)
        if propagation_s > 0 and self.clock.now() - self._tag_born[tagid] < propagation_s:
            raise ApiFailure(45159)
        return tagid

    def _check_name(self, name: object, tagid: int | None = None) -> str:
        if not isinstance(name, str) or not name:
            raise ApiFailure(45157)
        if limits.tag_name_bytes(name) > limits.MAX_TAG_NAME_BYTES:
            raise ApiFailure(45158)
        if any(n == name and t != tagid for t, n in self._tag_names.items()):
            raise ApiFailure(45157)
        return name

    def create_tag(self, name: str, *, born: float | None = None) -> int:
        name = self._check_name(name)
        if self.user_tag_count() >= limits.MAX_TAGS_PER_ACCOUNT:
            raise ApiFailure(45056)
        tagid = self._next_tag_id
        self._next_tag_id += 1
        self._tag_names[tagid] = name
        self._members[tagid] = BitMap()
        self._tag_born[tagid] = self.clock.now() if born is None else born
        if self.changes is not None:
            self.changes("create_tag", tagid, name, self._tag_born[tagid])
        return tagid

    def _user_tag(self, tagid: object, propagation_s: float) -> int:
        if _as_tagid(tagid) in limits.RESERVED_TAG_IDS:
            raise ApiFailure(45058)
        return self.tag(tagid, propagation_s)

    def update_tag(self, tagid: object, name: object, propagation_s: float = 0.0) -> None:
        tagid = self._user_tag(tagid, propagation_s)
        self._tag_names[tagid] = self._check_name(name, tagid)
        if self.changes is not None:
            self.changes("rename_tag", tagid, name)

    def delete_tag(self, tagid: object, propagation_s: float = 0.0) -> None:
        tagid = self._user_tag(tagid, propagation_s)
        members = self._members[tagid]
        if len(members) > limits.TAG_DELETE_MAX_FOLLOWERS:
            raise ApiFailure(45057)
        counts = self._tag_count
        for i in members:
            counts[i] -= 1
        del self._tag_names[tagid], self._members[tagid], self._tag_born[tagid]
        if self.changes is not None:
            self.changes("delete_tag", tagid)

    def tag_rows(self, rows: list[int], tagid: int) -> None:
        members, counts = self._members[tagid], self._tag_count
        new = [i for i in dict.fromkeys(rows) if i not in members]
        if any(counts[i] >= limits.MAX_TAGS_PER_FOLLOWER for i in new):
            raise ApiFailure(45059)
        for i in new:
            counts[i] += 1
        if new:
            members.update(new)
            if self.changes is not None:
                self.changes("tag", tagid, new)

    def untag_rows(self, rows: list[int], tagid: int) -> None:
        members, counts = self._members[tagid], self._tag_count
        gone = [i for i in dict.fromkeys(rows) if i in members]
        for i in gone:
            counts[i] -= 1
        if gone:
            members.difference_update(BitMap(gone))
            if self.changes is not None:
                self.changes("untag", tagid, gone)

    def set_tags(self, openid: str, tagids) -> None:
        """Give a follower exactly these tags (no other tag stays)."""
        i = self.row(openid)
        wanted = {self.tag(t) for t in tagids}
        if len(wanted) > limits.MAX_TAGS_PER_FOLLOWER:
            raise ApiFailure(45059)
        for t in self.tagids(i):
            if t not in wanted:
                self.untag_rows([i], t)
        for t in sorted(wanted):
            self.tag_rows([i], t)

    # ---- blacklist -------------------------------------------------------------------------

    def blacklist(self) -> list[str]:
        names = self._openids
        return [names[i] for i in self._blacklisted]

    def is_blacklisted(self, openid: str) -> bool:
        i = self._openids.get(openid)
        return i is not None and i in self._blacklisted

    def blacklist_rows(self, rows: list[int], listed: bool) -> None:
        before = len(self._blacklisted)
        if listed:
            self._blacklisted.update(rows)
        else:
            self._blacklisted.difference_update(BitMap(rows))
        if len(self._blacklisted) != before:
            if self.changes is not None:
                self.changes("blacklist", listed, list(rows))

    # ---- pages -----------------------------------------------------------------------------

    def _cursor(self, cursor: object) -> int:
        """The row a page starts after; -1 for the first page; 40003/49003 for a foreign cursor."""
        if cursor in (None, ""):
            return -1
        return self.row(cursor, subscribed=False)

    def follower_page(self, cursor: object) -> dict:
        start = self._cursor(cursor) + 1
        total = self.subscribed_count()
        size, openids = limits.PAGE_SIZE, self._openids
        if total == len(openids):
            page = openids[start : start + size]
        else:
            page, pos = [], start
            while len(page) < size and pos < len(openids):
                chunk = size - len(page) + 1024
                page.extend(compress(openids[pos : pos + chunk], self._subscribed[pos : pos + chunk]))
                pos += chunk
            del page[size:]
        return _page(page, total)

    def tag_page(self, tagid: int, cursor: object) -> dict:
        return self._rows_page(self._members[tagid], cursor, total=None)

    def blacklist_page(self, cursor: object) -> dict:
        rows = self._blacklisted
        return self._rows_page(rows, cursor, total=len(rows))

    def _rows_page(self, rows: BitMap, cursor: object, total: int | None) -> dict:
        after = self._cursor(cursor)
        start = rows.rank(after) if after >= 0 else 0  # members up to the cursor's row
        names = self._openids
        return _page([names[i] for i in rows[start : start + limits.PAGE_SIZE]], total)

    def set_quota(self, path: str, daily_limit: int) -> None:
        self.quotas.set_limit(path, daily_limit)

    # ---- whole state -----------------------------------------------------------------------

    def snapshot(self) -> dict:
        """Everything a test may compare: followers with their fields, tags, memberships, blacklist."""
        names = self._openids
        return {
            "followers": [self.info(i) for i in range(len(names))],
            "tags": {t: name for t, name in self._tag_names.items()},
            "members": {t: sorted(names[i] for i in m) for t, m in self._members.items()},
            "blacklist": sorted(self.blacklist()),
        }

    def summary(self) -> dict:
        return {
            "name": self.name, "appid": self.appid, "prefix": self.prefix, "verified": self.verified,
            "ip_whitelist": sorted(self.ip_whitelist) if self.ip_whitelist is not None else None,
            "followers": self.subscribed_count(), "unfollowed": len(self._openids) - self.subscribed_count(),
            "tags": {str(t): {"name": n, "count": c} for t, (n, c) in self.tags().items()},
            "blacklist": len(self._blacklisted),
        }


def _as_tagid(value: object) -> int:
    """Tag ids come as JSON numbers (some SDKs send digit strings); anything else is 45159."""
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if type(value) is not int:
        raise ApiFailure(45159)
    return value


def _page(openids: list[str], total: int | None) -> dict:
    d: dict = {} if total is None else {"total": total}
    if openids:
        d.update(count=len(openids), data={"openid": openids}, next_openid=openids[-1])
    else:
        d.update(count=0, next_openid="")
    return d
