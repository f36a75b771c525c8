"""The cgi-bin calls: request parsing and answer shapes. The rules live in state.Account."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from wxtui.emulation.failure import ApiFailure
from wxtui.families.wechat import limits

from . import datacube
from .state import Account

OK = {"errcode": 0, "errmsg": "ok"}


class Call:
    """One API request as the handlers see it; a handler sets `held` to the openids it changes."""

    __slots__ = ("query", "body", "propagation_s", "held", "kept")

    def __init__(self, query, body: dict, propagation_s: float,
                 kept: Callable[[list], list] = lambda targets: targets):
        self.query = query
        self.body = body
        self.propagation_s = propagation_s
        self.held: list[str] = []
        self.kept = kept  # the targets whose change a bulk call makes (the drop_effect fault)


def _openid_list(body: dict, max_size: int) -> list:
    openids = body.get("openid_list")
    if not isinstance(openids, list) or not 0 < len(openids) <= max_size:
        raise ApiFailure(40032)
    return openids


def _tag_field(body: dict) -> dict:
    tag = body.get("tag")
    return tag if isinstance(tag, dict) else {}


def tags_create(acct: Account, call: Call) -> dict:
    name = _tag_field(call.body).get("name")
    return {"tag": {"id": acct.create_tag(name), "name": name}}


def tags_get(acct: Account, call: Call) -> dict:
    return {"tags": [{"id": t, "name": name, "count": count} for t, (name, count) in acct.tags().items()]}


def tags_update(acct: Account, call: Call) -> dict:
    tag = _tag_field(call.body)
    if call.kept([tag.get("id")]):
        acct.update_tag(tag.get("id"), tag.get("name"), call.propagation_s)
    else:  # the drop_effect fault: checked and answered ok, never renamed
        acct._check_name(tag.get("name"), acct._user_tag(tag.get("id"), call.propagation_s))
    return OK


def tags_delete(acct: Account, call: Call) -> dict:
    acct.delete_tag(_tag_field(call.body).get("id"), call.propagation_s)
    return OK


def user_tag_get(acct: Account, call: Call) -> dict:
    tagid = acct.tag(call.body.get("tagid"), call.propagation_s)
    return acct.tag_page(tagid, call.body.get("next_openid"))


def _tagging(acct: Account, call: Call, tag: bool) -> dict:
    openids = _openid_list(call.body, limits.TAGGING_BATCH)
    tagid = acct.tag(call.body.get("tagid"), call.propagation_s)
    inflight = acct.inflight
    if inflight and any(isinstance(o, str) and o in inflight for o in openids):
        raise ApiFailure(45169)
    rows = [acct.row(o) for o in openids]
    (acct.tag_rows if tag else acct.untag_rows)(call.kept(rows), tagid)
    call.held = openids
    return OK


def batchtagging(acct: Account, call: Call) -> dict:
    return _tagging(acct, call, True)


def batchuntagging(acct: Account, call: Call) -> dict:
    return _tagging(acct, call, False)


def getidlist(acct: Account, call: Call) -> dict:
    return {"tagid_list": acct.tagids(acct.row(call.body.get("openid")))}


def getblacklist(acct: Account, call: Call) -> dict:
    return acct.blacklist_page(call.body.get("begin_openid"))


def _blacklisting(acct: Account, call: Call, listed: bool) -> dict:
    openids = _openid_list(call.body, limits.BLACKLIST_BATCH)
    acct.blacklist_rows(call.kept([acct.row(o) for o in openids]), listed)
    call.held = openids
    return OK


def batchblacklist(acct: Account, call: Call) -> dict:
    return _blacklisting(acct, call, True)


def batchunblacklist(acct: Account, call: Call) -> dict:
    return _blacklisting(acct, call, False)


def user_get(acct: Account, call: Call) -> dict:
    return acct.follower_page(call.query.get("next_openid"))


def user_info(acct: Account, call: Call) -> dict:
    return acct.info(acct.row(call.query.get("openid"), subscribed=False))


def user_info_batchget(acct: Account, call: Call) -> dict:
    users = call.body.get("user_list")
    if not isinstance(users, list) or not 0 < len(users) <= limits.USER_INFO_BATCH:
        raise ApiFailure(40032)
    rows = [acct.row(u.get("openid") if isinstance(u, dict) else None, subscribed=False) for u in users]
    return {"user_info_list": [acct.info(i) for i in rows]}


def updateremark(acct: Account, call: Call) -> dict:
    openid = call.body.get("openid")
    row = acct.row(openid)
    if call.kept([row]):  # else the drop_effect fault: answered ok, never written
        acct.set_remark(row, call.body.get("remark", ""))
    call.held = [openid]
    return OK


def quota_get(acct: Account, call: Call) -> dict:
    return {"errcode": 0, "errmsg": "ok", "quota": acct.quotas.get(call.body.get("cgi_path"))}


def clear_quota(acct: Account, call: Call) -> dict:
    if call.body.get("appid") != acct.appid:
        raise ApiFailure(40013)
    acct.quotas.clear()
    return OK


@dataclass(frozen=True, slots=True)
class Endpoint:
    handler: Callable[[Account, Call], dict]
    methods: frozenset[str]
    account_calls: bool = True  # a tag/blacklist/follower call: 48001 for an unverified account


_GET = frozenset({"GET"})
_POST = frozenset({"POST"})
_ANY = frozenset({"GET", "POST"})

# Reads answer GET as the SDKs send them (user/tag/get is documented as GET with a JSON body,
# and sent as POST by most SDKs).
ENDPOINTS: dict[str, Endpoint] = {
    "/cgi-bin/tags/create": Endpoint(tags_create, _POST),
    "/cgi-bin/tags/get": Endpoint(tags_get, _ANY),
    "/cgi-bin/tags/update": Endpoint(tags_update, _POST),
    "/cgi-bin/tags/delete": Endpoint(tags_delete, _POST),
    "/cgi-bin/user/tag/get": Endpoint(user_tag_get, _ANY),
    "/cgi-bin/tags/members/batchtagging": Endpoint(batchtagging, _POST),
    "/cgi-bin/tags/members/batchuntagging": Endpoint(batchuntagging, _POST),
    "/cgi-bin/tags/getidlist": Endpoint(getidlist, _POST),
    "/cgi-bin/tags/members/getblacklist": Endpoint(getblacklist, _POST),
    "/cgi-bin/tags/members/batchblacklist": Endpoint(batchblacklist, _POST),
    "/cgi-bin/tags/members/batchunblacklist": Endpoint(batchunblacklist, _POST),
    "/cgi-bin/user/get": Endpoint(user_get, _ANY),
    "/cgi-bin/user/info": Endpoint(user_info, _GET),
    "/cgi-bin/user/info/batchget": Endpoint(user_info_batchget, _POST),
    "/cgi-bin/user/info/updateremark": Endpoint(updateremark, _POST),
    "/cgi-bin/openapi/quota/get": Endpoint(quota_get, _POST, account_calls=False),
    "/cgi-bin/clear_quota": Endpoint(clear_quota, _POST, account_calls=False),
    "/datacube/getusersummary": Endpoint(datacube.getusersummary, _POST),
    "/datacube/getusercumulate": Endpoint(datacube.getusercumulate, _POST),
}
TOKEN_PATHS = ("/cgi-bin/token", "/cgi-bin/stable_token")
