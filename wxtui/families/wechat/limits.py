"""The platform's numbers, in one place (see docs: wechat-api.md).

Both the client (which validates before sending) and the emulator (which enforces) read these,
so a change of the platform is a change of one line.
"""

MAX_TAGS_PER_ACCOUNT = 100
MAX_TAG_NAME_BYTES = 30
MAX_TAGS_PER_FOLLOWER = 20
RESERVED_TAG_IDS = frozenset({0, 1, 2})
STAR_TAG_ID = 2
TAG_DELETE_MAX_FOLLOWERS = 100_000

TAGGING_BATCH = 50  # batchtagging / batchuntagging
BLACKLIST_BATCH = 20  # batchblacklist / batchunblacklist
USER_INFO_BATCH = 100  # user/info/batchget
PAGE_SIZE = 10_000  # user/get, user/tag/get, getblacklist

OPENID_LENGTH = 28
OPENID_PREFIX_LENGTH = 6
OPENID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
MAX_REMARK_BYTES = 30
MAX_TOKEN_LENGTH = 512

TOKEN_LIFETIME_S = 7200
# A classic token dies this long after the next one is minted; the stable token is renewed
# this long before it expires.
TOKEN_GRACE_S = 300
FORCE_REFRESH_PER_DAY = 20
FORCE_REFRESH_MIN_INTERVAL_S = 30
CLEAR_QUOTA_PER_MONTH = 10

DEFAULT_HOST = "https://api.weixin.qq.com"
BACKUP_HOST = "https://api2.weixin.qq.com"
REGIONAL_HOSTS = (
    "https://sh.api.weixin.qq.com",
    "https://sz.api.weixin.qq.com",
    "https://hk.api.weixin.qq.com",
)

# Default daily quotas of a new account (quota/get is the authority).
DEFAULT_DAILY_QUOTAS: dict[str, int] = {
    "/cgi-bin/token": 2_000,
    "/cgi-bin/stable_token": 500_000,
    "/cgi-bin/user/get": 500,
    "/cgi-bin/user/info": 5_000_000,
    "/cgi-bin/user/info/batchget": 5_000_000,
    "/cgi-bin/user/info/updateremark": 10_000,
    "/cgi-bin/tags/create": 1_000_000,
    "/cgi-bin/tags/get": 1_000_000,
    "/cgi-bin/tags/update": 1_000_000,
    "/cgi-bin/tags/delete": 1_000_000,
    "/cgi-bin/user/tag/get": 1_000_000,
    "/cgi-bin/tags/members/batchtagging": 1_000_000,
    "/cgi-bin/tags/members/batchuntagging": 1_000_000,
    "/cgi-bin/tags/getidlist": 1_000_000,
    "/cgi-bin/tags/members/getblacklist": 1_000_000,
    "/cgi-bin/tags/members/batchblacklist": 1_000_000,
    "/cgi-bin/tags/members/batchunblacklist": 1_000_000,
}


def tag_name_bytes(name: str) -> int:
    return len(name.encode("utf-8"))
