"""Deterministic demo data for the IM emulator: accounts user000000, user000001, ... and tags.

Tag sizes are skewed like a real app's: platform tags on most accounts, a long tail of small ones,
a few tags on a handful of accounts; some tags are Chinese (3 bytes a character) and one sits
close to the 50-byte limit.
"""

from __future__ import annotations

import random

from .state import TimState

ACCOUNT_FORMAT = "user{:06d}"
ADMIN = "administrator"

# (tag, share of accounts) or (tag, absolute count) for the rare ones.
DEMO_TAGS: tuple[tuple[str, float | int], ...] = (
    ("android", 0.45), ("ios", 0.35), ("zh", 0.85), ("en", 0.10), ("newsletter", 0.25),
    ("2025-cohort", 0.22), ("2024-cohort", 0.20), ("vip", 0.18), ("会员", 0.15), ("广东", 0.12),
    ("lapsed", 0.11), ("北京", 0.09), ("上海", 0.08), ("silver", 0.07), ("coffee-lover", 0.06),
    ("gold", 0.05), ("churn-risk", 0.04), ("tea", 0.03), ("黄金会员", 0.03), ("深圳 门店", 0.02),
    ("weekly-pass 周卡用户", 0.02), ("push-opt-out", 0.02), ("monthly-pass 月卡用户", 0.015),
    ("platinum", 0.01), ("白金会员", 0.008), ("wholesale 批发", 0.004), ("beta", 0.003),
    ("campaign:2025-11-singles-day:coupon-50-off-vip", 0.002),  # 46 bytes
    ("complaints 投诉处理", 40), ("testers", 25), ("staff", 12),
)


def account_name(i: int) -> str:
    return ACCOUNT_FORMAT.format(i)


def credentials(seed: int) -> tuple[int, str]:
    """The demo app's SDKAppID and secret key, derived from the seed."""
    rng = random.Random(f"tim-credentials-{seed}")
    return 1_400_000_000 + rng.randrange(1, 100_000_000), rng.randbytes(32).hex()


def build(accounts: int, seed: int, *, region: str = "china") -> TimState:
    sdkappid, key = credentials(seed)
    state = TimState(sdkappid=sdkappid, key=key, admins=(ADMIN,), name="Demo IM app", region=region)
    populate(state, accounts, random.Random(seed))
    return state


def populate(state: TimState, n: int, rng: random.Random) -> None:
    """Import n demo accounts (after those already there) and give them the demo tags."""
    first = state.account_count()
    names = [account_name(i) for i in range(first, first + n)]
    state.import_accounts(names)
    if not names:
        return
    for tag, size in DEMO_TAGS:
        k = min(n, size if isinstance(size, int) else round(size * n))
        state.tag_accounts((names[i] for i in sorted(rng.sample(range(n), k))), tag)
