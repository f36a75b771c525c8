"""The async WeChat Official Account client: one typed method per call of the API.

Every method validates its input before anything is sent (list sizes, tag names, reserved ids),
so a mistake costs no quota and gets a clear ValidationError. Retries, token refresh and failover
live in transport.py.
"""

from __future__ import annotations

import time
from typing import AsyncIterator, Callable, Iterable

import httpx

from wxtui.families.wechat import limits
from wxtui.families.wechat.errors import ApiError, BadResponseError, ValidationError
from wxtui.families.wechat.models import Follower, OpenidPage, Quota, Tag
from wxtui.families.wechat.tokens import StableTokenSource, TokenManager, TokenSource
from wxtui.core.transport import ApiClient, ApiTransport, RetryEvent, RetryPolicy, call_observer
from wxtui.families.wechat.envelope import WeChatEnvelope

P = "/cgi-bin"
TAG_NAME_TAKEN = 45157  # tags/create: the name is taken (or not allowed)


def check_tag_name(name: str) -> str:
    """The name as it will be sent, or a ValidationError saying what is wrong with it."""
    if not isinstance(name, str) or not name.strip():
        raise ValidationError("A tag name cannot be empty")
    name = name.strip()
    size = limits.tag_name_bytes(name)
    if size > limits.MAX_TAG_NAME_BYTES:
        raise ValidationError(
            f"The tag name {name!r} is {size} bytes of UTF-8; WeChat allows {limits.MAX_TAG_NAME_BYTES} "
            "(a Chinese character takes 3 bytes)"
        )
    return name


def check_tag_id(tagid: int, *, modifiable: bool = False) -> int:
    if isinstance(tagid, bool) or not isinstance(tagid, int) or tagid < 0:
        raise ValidationError(f"Not a tag id: {tagid!r}")
    if modifiable and tagid in limits.RESERVED_TAG_IDS:
        raise ValidationError(f"Tag {tagid} is reserved by WeChat and cannot be renamed or deleted")
    return tagid


def is_valid_openid(openid: object) -> bool:
    return (
        isinstance(openid, str)
        and len(openid) == limits.OPENID_LENGTH
        and all(c in _OPENID_CHARS for c in openid)
    )


_OPENID_CHARS = frozenset(limits.OPENID_ALPHABET)


def check_openids(openids: Iterable[str], most: int, call: str) -> list[str]:
    items = list(openids)
    if not items:
        raise ValidationError(f"{call}: no openids given")
    if len(items) > most:
        raise ValidationError(f"{call} takes at most {most} openids per call, got {len(items)}")
    for item in items:
        if not isinstance(item, str) or not item:
            raise ValidationError(f"{call}: not an openid: {item!r}")
    return items


def check_remark(remark: str) -> str:
    if not isinstance(remark, str):
        raise ValidationError("A remark must be text")
    size = len(remark.encode("utf-8"))
    if size >= limits.MAX_REMARK_BYTES:
        raise ValidationError(f"A remark must be under {limits.MAX_REMARK_BYTES} bytes of UTF-8; this one is {size}")
    return remark


def check_datacube_range(begin: str, end: str) -> dict:
    """The body of a datacube call, or ValidationError: days as YYYY-MM-DD, from 2014-12-01 on,
    begin not after end, at most 7 days."""
    import datetime as dt

    try:
        first, last = dt.date.fromisoformat(begin), dt.date.fromisoformat(end)
    except (TypeError, ValueError):
        raise ValidationError(f"statistics days must be YYYY-MM-DD, not {begin!r}..{end!r}") from None
    if first < limits.DATACUBE_FIRST_DAY or first > last or (last - first).days >= limits.DATACUBE_MAX_DAYS:
        raise ValidationError(f"statistics are asked for at most {limits.DATACUBE_MAX_DAYS} days a call, "
                              f"from {limits.DATACUBE_FIRST_DAY.isoformat()} on: not {begin}..{end}")
    return {"begin_date": first.isoformat(), "end_date": last.isoformat()}


def _datacube_list(payload: dict, path: str, numbers: tuple[str, ...]) -> list[dict]:
    rows = payload.get("list")
    if not isinstance(rows, list):
        raise BadResponseError(path, "no list in the answer")
    for row in rows:
        if type(row) is not dict or not isinstance(row.get("ref_date"), str) or \
                not all(isinstance(row.get(n), int) for n in numbers):
            raise BadResponseError(path, "a day without ref_date or its numbers")
    return rows


def _openids_of(payload: dict) -> list[str]:
    data = payload.get("data")
    if not isinstance(data, dict):
        return []
    return [o for o in data.get("openid") or () if isinstance(o, str) and o]


def _page(payload: dict, with_total: bool) -> OpenidPage:
    total = payload.get("total") if with_total else None
    return OpenidPage(_openids_of(payload), str(payload.get("next_openid") or ""), total)


class WeChatClient(ApiClient):
    """Typed calls over one shared httpx.AsyncClient. Use as `async with WeChatClient(...)`."""

    def __init__(
        self,
        token_source: TokenSource,
        *,
        appid: str = "",
        hosts: list[str] | tuple[str, ...] = (limits.DEFAULT_HOST, limits.BACKUP_HOST),
        transport: httpx.AsyncBaseTransport | None = None,
        max_in_flight: int = 8,
        retry: RetryPolicy = RetryPolicy(),
        seed: int | None = None,
        clock: Callable[[], float] = time.time,
        sleep=None,
    ):
        self.appid = appid or getattr(token_source, "appid", "")
        kwargs = {"sleep": sleep} if sleep is not None else {}
        envelope = WeChatEnvelope()
        self.transport = ApiTransport(hosts, envelope=envelope, transport=transport,
                                      max_in_flight=max_in_flight, retry=retry, seed=seed, clock=clock,
                                      **kwargs)
        self.tokens = envelope.tokens = TokenManager(token_source, self.transport.request, clock)

    @classmethod
    def with_secret(cls, appid: str, secret, **kwargs) -> "WeChatClient":
        """A client on the stable token (the safe default) for an AppID and its secret."""
        return cls(StableTokenSource(appid, secret), appid=appid, **kwargs)

    def credentials_made(self) -> int:
        return self.tokens.fetches

    async def _post(self, path: str, body: dict) -> dict:
        return await self.transport.call("POST", P + path, json=body)

    async def _get(self, path: str, params: dict | None = None) -> dict:
        return await self.transport.call("GET", P + path, params=params)

    # -- tokens -------------------------------------------------------------------------------

    async def access_token(self) -> str:
        """The current token (fetched when needed). For diagnostics; never print it."""
        return await self.tokens.get()

    # -- tags ---------------------------------------------------------------------------------

    async def create_tag(self, name: str, *, sent_before: bool = False) -> Tag:
        """Create a tag. An attempt whose answer was lost (a timeout, a dropped connection)
        may have created it: the attempt after it then hears 45157 (the name is taken), and the
        tag of that name is the one it made. sent_before: an earlier call of this creation went
        out unanswered (the job engine knows it from its journal)."""
        name = check_tag_name(name)
        unanswered = [sent_before]
        outer = call_observer.get()

        def on_retry(event: RetryEvent) -> None:
            unanswered[0] = unanswered[0] or event.unanswered
            if outer is not None:
                outer(event)

        context = call_observer.set(on_retry)
        try:
            payload = await self._post("/tags/create", {"tag": {"name": name}})
        except ApiError as exc:
            if exc.errcode != TAG_NAME_TAKEN or not unanswered[0]:
                raise
            made = next((t for t in await self.get_tags() if t.name == name), None)
            if made is None:
                raise
            return made
        finally:
            call_observer.reset(context)
        tag = payload.get("tag")
        if not isinstance(tag, dict) or not isinstance(tag.get("id"), int):
            raise BadResponseError(P + "/tags/create", "no tag in the answer")
        return Tag(tag["id"], str(tag.get("name", name)), 0)

    async def get_tags(self) -> list[Tag]:
        payload = await self._get("/tags/get")
        tags = payload.get("tags")
        if not isinstance(tags, list):
            raise BadResponseError(P + "/tags/get", "no tags in the answer")
        try:
            return [Tag(int(t["id"]), str(t["name"]), int(t.get("count", 0))) for t in tags]
        except (KeyError, TypeError, ValueError):
            raise BadResponseError(P + "/tags/get", "a tag without id or name") from None

    async def update_tag(self, tagid: int, name: str) -> None:
        body = {"tag": {"id": check_tag_id(tagid, modifiable=True), "name": check_tag_name(name)}}
        await self._post("/tags/update", body)

    async def delete_tag(self, tagid: int) -> None:
        await self._post("/tags/delete", {"tag": {"id": check_tag_id(tagid, modifiable=True)}})

    async def tag_followers_page(self, tagid: int, next_openid: str = "") -> OpenidPage:
        payload = await self._post("/user/tag/get", {"tagid": check_tag_id(tagid), "next_openid": next_openid})
        return _page(payload, with_total=False)

    def iter_tag_followers(self, tagid: int, next_openid: str = "") -> AsyncIterator[OpenidPage]:
        return self._pages(lambda cursor: self.tag_followers_page(tagid, cursor), next_openid)

    async def batch_tag(self, tagid: int, openids: Iterable[str]) -> None:
        items = check_openids(openids, limits.TAGGING_BATCH, "batchtagging")
        await self._post("/tags/members/batchtagging", {"openid_list": items, "tagid": check_tag_id(tagid)})

    async def batch_untag(self, tagid: int, openids: Iterable[str]) -> None:
        items = check_openids(openids, limits.TAGGING_BATCH, "batchuntagging")
        await self._post("/tags/members/batchuntagging", {"openid_list": items, "tagid": check_tag_id(tagid)})

    async def get_tag_ids(self, openid: str) -> list[int]:
        check_openids([openid], 1, "getidlist")
        payload = await self._post("/tags/getidlist", {"openid": openid})
        ids = payload.get("tagid_list")
        if not isinstance(ids, list):
            raise BadResponseError(P + "/tags/getidlist", "no tagid_list in the answer")
        return [int(i) for i in ids]

    # -- blacklist ----------------------------------------------------------------------------

    async def blacklist_page(self, begin_openid: str = "") -> OpenidPage:
        payload = await self._post("/tags/members/getblacklist", {"begin_openid": begin_openid})
        return _page(payload, with_total=True)

    def iter_blacklist(self, begin_openid: str = "") -> AsyncIterator[OpenidPage]:
        return self._pages(self.blacklist_page, begin_openid)

    async def batch_blacklist(self, openids: Iterable[str]) -> None:
        items = check_openids(openids, limits.BLACKLIST_BATCH, "batchblacklist")
        await self._post("/tags/members/batchblacklist", {"openid_list": items})

    async def batch_unblacklist(self, openids: Iterable[str]) -> None:
        items = check_openids(openids, limits.BLACKLIST_BATCH, "batchunblacklist")
        await self._post("/tags/members/batchunblacklist", {"openid_list": items})

    # -- followers ----------------------------------------------------------------------------

    async def followers_page(self, next_openid: str = "") -> OpenidPage:
        params = {"next_openid": next_openid} if next_openid else None
        payload = await self._get("/user/get", params)
        return _page(payload, with_total=True)

    def iter_followers(self, next_openid: str = "") -> AsyncIterator[OpenidPage]:
        return self._pages(self.followers_page, next_openid)

    async def user_info(self, openid: str, lang: str = "zh_CN") -> Follower:
        check_openids([openid], 1, "user/info")
        payload = await self._get("/user/info", {"openid": openid, "lang": lang})
        if "openid" not in payload:
            raise BadResponseError(P + "/user/info", "no openid in the answer")
        return Follower.from_api(payload)

    async def user_info_batch(self, openids: Iterable[str], lang: str = "zh_CN") -> list[Follower]:
        return [Follower.from_api(d) for d in await self.user_info_answers(openids, lang)]

    async def user_info_answers(self, openids: Iterable[str], lang: str = "zh_CN") -> list[dict]:
        """user/info/batchget's answers as they came, each checked to make a Follower
        (Follower.from_api). The sync writes these straight into the cache: at a million
        followers, building a Follower for each costs ~2 µs of the client's ~20."""
        items = check_openids(openids, limits.USER_INFO_BATCH, "user/info/batchget")
        payload = await self._post("/user/info/batchget",
                                   {"user_list": [{"openid": o, "lang": lang} for o in items]})
        infos = payload.get("user_info_list")
        if not isinstance(infos, list):
            raise BadResponseError(P + "/user/info/batchget", "no user_info_list in the answer")
        for d in infos:
            # What Follower.from_api needs: an object with an openid, and a tag list it can list().
            if type(d) is not dict or "openid" not in d:
                raise BadResponseError(P + "/user/info/batchget", "a follower without openid")
            tagids = d.get("tagid_list")
            if tagids and not isinstance(tagids, (list, str, dict)):
                raise BadResponseError(P + "/user/info/batchget", "a follower's tagid_list is not a list")
        return infos

    async def update_remark(self, openid: str, remark: str) -> None:
        check_openids([openid], 1, "updateremark")
        await self._post("/user/info/updateremark", {"openid": openid, "remark": check_remark(remark)})

    # -- quotas -------------------------------------------------------------------------------

    async def get_quota(self, cgi_path: str) -> Quota:
        if not cgi_path.startswith("/"):
            cgi_path = "/" + cgi_path
        payload = await self._post("/openapi/quota/get", {"cgi_path": cgi_path})
        quota = payload.get("quota")
        try:
            return Quota(int(quota["daily_limit"]), int(quota["used"]), int(quota["remain"]))
        except (KeyError, TypeError, ValueError):
            raise BadResponseError(P + "/openapi/quota/get", "no quota in the answer") from None

    async def clear_quota(self) -> None:
        """Resets every counter of the account. 10 a month: call only on explicit confirmation."""
        if not self.appid:
            raise ValidationError("clear_quota needs the account's AppID")
        await self._post("/clear_quota", {"appid": self.appid})

    # -- statistics (datacube) -----------------------------------------------------------------

    async def user_summary(self, begin: str, end: str) -> list[dict]:
        """datacube/getusersummary: new and cancelled followers per day and source, at most
        7 days (YYYY-MM-DD, China time, up to yesterday) a call."""
        body = check_datacube_range(begin, end)
        payload = await self.transport.call("POST", "/datacube/getusersummary", json=body)
        return _datacube_list(payload, "/datacube/getusersummary", ("new_user", "cancel_user"))

    async def user_cumulate(self, begin: str, end: str) -> list[dict]:
        """datacube/getusercumulate: the followers at the end of each day, at most 7 days a call."""
        body = check_datacube_range(begin, end)
        payload = await self.transport.call("POST", "/datacube/getusercumulate", json=body)
        return _datacube_list(payload, "/datacube/getusercumulate", ("cumulate_user",))

    # -- paging -------------------------------------------------------------------------------

    async def _pages(self, fetch, cursor: str) -> AsyncIterator[OpenidPage]:
        """Walk a paged list to its end, whichever way the end is signalled: a page with count 0
        or no data, an empty next_openid, or a cursor that does not move."""
        while True:
            page = await fetch(cursor)
            if page.openids:
                yield page
            if not page.openids or not page.next_openid or page.next_openid == cursor:
                return
            cursor = page.next_openid
