"""Tencent Cloud IM accounts in the local cache (the store WeChat's followers live in).

An account is a follower row whose openid column holds the account id (UserID); a TIM tag, a
free text, is the cached tag of that name, with a number the cache gives it on first use. There
is no blacklist for this kind of account.
"""

from __future__ import annotations

from typing import Iterable, Mapping

from wxtui.core.members import Follower, Tag


def cached_tag_ids(store, names: Iterable[str], create: bool = True) -> dict[str, int]:
    """The cache's number for each tag name; a name it lacks gets the next number (create)."""
    by_name = {name: tagid for tagid, name in store.tag_names().items()}
    out = {}
    for name in dict.fromkeys(names):
        if name not in by_name and create:
            tagid = max(by_name.values(), default=0) + 1
            store.apply_tag_created(Tag(tagid, name, 0))
            by_name[name] = tagid
        if name in by_name:
            out[name] = by_name[name]
    return out


def cached_tags_of(store, accounts: Iterable[str]) -> dict[str, list[str]]:
    """The cached tag names of each account the cache knows."""
    names = store.tag_names()
    return {a: [names[i] for i in ids if i in names] for a, ids in store.tag_ids_of(accounts).items()}


def remember_accounts(store, user_tags: Mapping[str, Iterable[str]]) -> None:
    """Put these accounts in the cache with exactly these tags (an import, or im_get_tag's answer)."""
    user_tags = {a: list(dict.fromkeys(tags)) for a, tags in user_tags.items()}
    ids = cached_tag_ids(store, (t for tags in user_tags.values() for t in tags))
    store.upsert_followers([Follower(openid=a, tagid_list=[ids[t] for t in tags])
                            for a, tags in user_tags.items()])
