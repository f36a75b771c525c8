"""Crafted cache contents and a plain-Python reference for what every view must return."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from wxtui.store import Filter, Sort, SortKey, Store
from wxtui.families.wechat import limits
from wxtui.families.wechat.models import Follower, Tag

PREFIX = "oTeSt_"
TAG_IDS = (2, 100, 101, 102, 103, 104)
REMARKS = ("", "", "", "张伟", "李娜", "VIP李娜", "王芳 VIP客户", "vip", "Amy Wang", "50%_off",
           "a_b", 'say "hi"', "#1 fan", "*star*", "back\\slash", "ABC", "abc", "100%")
SCENES = ("ADD_SCENE_SEARCH", "ADD_SCENE_QR_CODE", "ADD_SCENE_PAID")


def openid(rng: random.Random) -> str:
    tail = limits.OPENID_LENGTH - len(PREFIX)
    return PREFIX + "".join(rng.choice(limits.OPENID_ALPHABET) for _ in range(tail))


def crafted_followers(n: int, seed: int) -> list[Follower]:
    """Few distinct subscribe times (ties on purpose), skewed tags, hostile remarks."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        k = rng.choice((0, 0, 1, 1, 2, 3))
        out.append(Follower(
            openid=openid(rng),
            subscribe_time=1_600_000_000 + rng.randrange(40) * 86_400,
            remark=rng.choice(REMARKS),
            subscribe_scene=rng.choice(SCENES),
            language=rng.choice(("zh_CN", "en")),
            unionid=rng.choice(("", "o6_bm" + "u" * 23)),
            qr_scene=rng.choice((0, 1001)),
            qr_scene_str=rng.choice(("", "store_shenzhen")),
            tagid_list=rng.sample(TAG_IDS, k),
        ))
    return out


@dataclass
class Model:
    """The account as plain Python: what the cache should say."""

    followers: dict[str, Follower] = field(default_factory=dict)
    blacklist: set[str] = field(default_factory=set)
    tags: dict[int, str] = field(default_factory=dict)

    def tag_counts(self) -> dict[int, int]:
        counts = dict.fromkeys(self.tags, 0)
        for f in self.followers.values():
            for t in set(f.tagid_list):
                counts[t] = counts.get(t, 0) + 1
        return counts


def load(store: Store, model: Model) -> None:
    """Put the model into the cache the way a sync does (one pass)."""
    store.replace_tags([Tag(t, name, 0) for t, name in model.tags.items()])
    pass_id = store.begin_pass()
    followers = list(model.followers.values())
    for start in range(0, len(followers), 37):
        store.upsert_followers(followers[start : start + 37], pass_id)
    store.finish_pass(pass_id)
    store.replace_blacklist(sorted(model.blacklist))


def crafted_model(n: int = 240, seed: int = 5) -> Model:
    rng = random.Random(seed)
    followers = crafted_followers(n, seed)
    model = Model({f.openid: f for f in followers}, tags={t: f"tag {t}" for t in TAG_IDS})
    model.blacklist = {f.openid for f in rng.sample(followers, n // 10)} | {openid(rng) for _ in range(3)}
    return model


def _fold(text: str) -> str:
    """What SQLite's LIKE folds: ASCII letters only."""
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)


def _matches(flt: Filter, f: Follower, blacklisted: bool) -> bool:
    tags = set(f.tagid_list)
    if flt.tags and not (flt.tags <= tags if flt.match_all_tags else flt.tags & tags):
        return False
    if flt.not_tags & tags or (flt.untagged and tags):
        return False
    if flt.blacklisted is not None and blacklisted != flt.blacklisted:
        return False
    if flt.text:
        in_remark = _fold(flt.text) in _fold(f.remark)
        openid_like = len(flt.text) <= 28 and all(c in limits.OPENID_ALPHABET for c in flt.text)
        if not (in_remark or (openid_like and f.openid.startswith(flt.text))):
            return False
    if flt.scenes and f.subscribe_scene not in flt.scenes:
        return False
    if flt.languages and f.language not in flt.languages:
        return False
    if flt.subscribed_from is not None and f.subscribe_time < flt.subscribed_from:
        return False
    if flt.subscribed_to is not None and f.subscribe_time >= flt.subscribed_to:
        return False
    return True


def expected_ids(model: Model, ids: dict[str, int], flt: Filter, sort: Sort) -> list[int]:
    """Row ids the view must give, in order (ids: openid -> row id as the cache numbered them)."""
    rows = [(ids[o], f) for o, f in model.followers.items() if _matches(flt, f, o in model.blacklist)]
    rev = sort.descending
    if sort.key is SortKey.SUBSCRIBE_TIME:
        rows.sort(key=lambda r: (r[1].subscribe_time, r[0]), reverse=rev)
    elif sort.key is SortKey.OPENID:
        rows.sort(key=lambda r: r[1].openid, reverse=rev)
    else:
        with_remark = sorted((r for r in rows if r[1].remark),
                             key=lambda r: (r[1].remark, r[1].subscribe_time, r[0]), reverse=rev)
        without = sorted((r for r in rows if not r[1].remark), key=lambda r: r[0], reverse=rev)
        rows = with_remark + without
    return [i for i, _ in rows]
