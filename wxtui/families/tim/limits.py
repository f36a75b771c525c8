"""Tencent Cloud IM's numbers for the user-tag calls, in one place (see docs: tim-api.md).

The client validates with them before sending and the emulator enforces them, so a change of
the platform is a change of one line.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_ACCOUNTS_PER_CALL = 100  # every tag call and account_check
MAX_TAGS_PER_ACCOUNT_PER_CALL = 10  # add_tag (without Replace)
MAX_TAGS_PER_ACCOUNT = 100  # tags one account may carry (also: add_tag with Replace=1)
MAX_TAG_BYTES = 50  # UTF-8 bytes of one tag
MAX_DISTINCT_TAGS_PER_APP = 1_000  # distinct tags over all the app's accounts
CALLS_PER_SECOND = 100  # each call of the family
RANDOM_MAX = 2**32 - 1  # `random` is an unsigned 32-bit number

USERSIG_VERSION = "2.0"
# A UserSig lives this long; the client signs a new one when less than the margin remains.
USERSIG_EXPIRE_S = 2 * 86_400
USERSIG_RENEW_MARGIN_S = 3_600


@dataclass(frozen=True, slots=True)
class Region:
    key: str
    name: str
    host: str
    backup: str | None = None

    @property
    def hosts(self) -> tuple[str, ...]:
        return (self.host, self.backup) if self.backup else (self.host,)


# The data centres; an app lives in exactly one, and the others do not know its SDKAppID.
REGIONS: dict[str, Region] = {r.key: r for r in (
    Region("china", "China", "https://console.tim.qq.com", "https://adminapi.my-imcloud.com"),
    Region("singapore", "Singapore", "https://adminapisgp.im.qcloud.com"),
    Region("seoul", "Seoul", "https://adminapikr.im.qcloud.com"),
    Region("frankfurt", "Frankfurt", "https://adminapiger.im.qcloud.com"),
    Region("silicon-valley", "Silicon Valley", "https://adminapiusa.im.qcloud.com"),
    Region("jakarta", "Jakarta", "https://adminapiidn.im.qcloud.com"),
)}
DEFAULT_REGION = "china"


def region_of_host(host: str) -> Region | None:
    """The data centre a host name (with or without scheme and port) belongs to, if any."""
    name = host.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0].lower()
    for region in REGIONS.values():
        for known in region.hosts:
            if known.split("://", 1)[1] == name:
                return region
    return None


def tag_bytes(tag: str) -> int:
    return len(tag.encode("utf-8"))
