"""Deterministic demo data: an account's followers, remarks, tags and blacklist from a seed.

Columns are generated in bulk (one random blob for all openids, `choices` for codes), so a
million followers take seconds. The tag sizes are skewed like a real account's: one regional tag
carries 12% of everyone (over 100,000 at 1M, so it cannot be deleted directly), a few carry a
handful.
"""

from __future__ import annotations

import calendar
from array import array

from wxtui.families.wechat import limits

from .state import (LANGUAGE_WEIGHTS, LANGUAGES, QR_CODES, QR_SCENE_CODE, SCENE_WEIGHTS, SCENES,
                    UNIONID_SHARE, Account, make_openid_tails)

# Followers followed between these instants, more of them recently.
FIRST_FOLLOW = calendar.timegm((2015, 1, 1, 0, 0, 0))
LAST_FOLLOW = calendar.timegm((2026, 11, 1, 0, 0, 0))
RECENCY_SKEW = 0.5  # t = first + span * u**skew: density grows towards the present

REMARK_SHARE = 0.3
REMARKS = (
    "张伟", "李娜", "王芳", "刘洋", "陈静", "杨帆", "赵磊", "黄敏", "周杰", "吴婷",
    "VIP李娜", "王芳 VIP客户", "Kevin 陈", "Amy Wang", "Tony 张", "老顾客 刘", "VIP",
    "供应商-李", "John Smith", "Lily 林", "批发 王总", "Coffee lover", "李经理", "店员 小周",
    "Grace 黄 VIP", "测试账号", "深圳店 Mike", "广州 VIP 陈", "Zhang Wei", "Emma",
)

# (name, share of followers) or (name, absolute count) for the rare ones.
DEMO_TAGS: tuple[tuple[str, float | int], ...] = (
    ("广东", 0.12), ("北京", 0.05), ("上海", 0.045), ("会员", 0.08), ("老客户", 0.04),
    ("Newsletter", 0.06), ("VIP", 0.03), ("Star customers", 0.02), ("活动 2025", 0.015),
    ("Wholesale 批发", 0.004), ("Beta testers", 9), ("投诉处理", 14), ("Staff", 6),
)
STAR_SHARE = 0.002
BLACKLIST_SHARE = 0.01
BLACKLIST_MAX = 300


def populate(account: Account, n: int, rng) -> None:
    """Append n demo followers to an empty account and give it the demo tags and blacklist."""
    if n <= 0:
        return
    first = account.row_count()
    span = LAST_FOLLOW - FIRST_FOLLOW
    rand = rng.random
    times = array("q", [FIRST_FOLLOW + int(span * rand() ** RECENCY_SKEW) for _ in range(n)])
    scenes = bytes(rng.choices(range(len(SCENES)), SCENE_WEIGHTS, k=n))
    qr_choices = range(1, len(QR_CODES))
    qr = bytes(rng.choice(qr_choices) if s == QR_SCENE_CODE else 0 for s in scenes)
    remark_weights = [1 - REMARK_SHARE] + [REMARK_SHARE / len(REMARKS)] * len(REMARKS)
    account.append_followers(
        make_openid_tails(rng, n),
        times,
        bytes(rng.choices(range(len(LANGUAGES)), LANGUAGE_WEIGHTS, k=n)),
        scenes,
        qr,
        bytes(rand() < UNIONID_SHARE for _ in range(n)),
        rng.choices(("",) + REMARKS, remark_weights, k=n),
    )
    rows = range(first, first + n)
    for name, size in DEMO_TAGS:
        k = min(n, size if isinstance(size, int) else round(size * n))
        tagid = account.create_tag(name, born=0.0)
        account.tag_rows(rng.sample(rows, k), tagid)
    account.tag_rows(rng.sample(rows, round(STAR_SHARE * n)), limits.STAR_TAG_ID)
    account.blacklist_rows(rng.sample(rows, min(BLACKLIST_MAX, round(BLACKLIST_SHARE * n))), True)
