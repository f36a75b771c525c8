"""datacube/getusersummary and getusercumulate: WeChat's daily follower statistics, emulated
from the account's own followers so that the numbers agree with it.

A day (China time) has as its cumulative users the followers of today whose subscribe_time is
on or before it; its new users are those who subscribed that day plus a few who came and left
the same day (its cancelled users), drawn from the account's AppID and the day so they do not
change between calls. So cumulate(d) - cumulate(d - 1) == new(d) - cancel(d) for every day.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter

from wxtui.emulation.failure import ApiFailure
from wxtui.families.wechat import limits

CHINA = dt.timezone(dt.timedelta(hours=8))
FIRST_DAY = limits.DATACUBE_FIRST_DAY
MAX_SPAN_DAYS = limits.DATACUBE_MAX_DAYS
DATE_FORMAT_ERROR = 61500  # "date format error" (or a day not yet over)
DATE_RANGE_ERROR = 61501  # "date range error" (more than the call's span, or before 2014-12-01)


def _day(value: object) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ApiFailure(DATE_FORMAT_ERROR) from None


def _range(acct, body: dict) -> list[dt.date]:
    begin, end = _day(body.get("begin_date")), _day(body.get("end_date"))
    today = dt.datetime.fromtimestamp(acct.clock.now(), CHINA).date()
    if end >= today:
        raise ApiFailure(DATE_FORMAT_ERROR)
    if begin > end or begin < FIRST_DAY or (end - begin).days >= MAX_SPAN_DAYS:
        raise ApiFailure(DATE_RANGE_ERROR)
    return [begin + dt.timedelta(days=i) for i in range((end - begin).days + 1)]


def _joined_by_day(acct) -> tuple[Counter, list]:
    """Followers now subscribed, counted by the China day they subscribed on; and the sorted days."""
    key = (acct.row_count(), acct.subscribed_count())
    cached = getattr(acct, "_datacube_cache", None)
    if cached is not None and cached[0] == key:
        return cached[1], cached[2]
    counts: Counter = Counter()
    for i, subscribed in enumerate(acct._subscribed):
        if subscribed:
            counts[dt.datetime.fromtimestamp(acct._subscribe_time[i], CHINA).date()] += 1
    days = sorted(counts)
    acct._datacube_cache = (key, counts, days)
    return counts, days


def cancelled_on(acct, day: dt.date, joined: int) -> int:
    digest = hashlib.blake2b(f"{acct.appid}:{day.isoformat()}".encode(), digest_size=2).digest()
    return (int.from_bytes(digest, "big") % 1000) * (joined + 3) // 5000


def getusersummary(acct, call) -> dict:
    counts, _days = _joined_by_day(acct)
    rows = []
    for day in _range(acct, call.body):
        joined = counts.get(day, 0)
        cancel = cancelled_on(acct, day, joined)
        rows.append({"ref_date": day.isoformat(), "user_source": 0, "new_user": joined + cancel,
                     "cancel_user": cancel})
    return {"list": rows}


def getusercumulate(acct, call) -> dict:
    counts, days = _joined_by_day(acct)
    wanted = _range(acct, call.body)
    total = sum(n for d, n in counts.items() if d < wanted[0])
    rows = []
    for day in wanted:
        total += counts.get(day, 0)
        rows.append({"ref_date": day.isoformat(), "cumulate_user": total})
    return {"list": rows}
