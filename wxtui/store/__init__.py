"""The local SQLite cache of one account: followers, tags, memberships, blacklist, selections."""

from .db import Store
from .filters import NEWEST_FIRST, Filter, FollowerRow, Sort, SortKey, TagRow
from .selections import Selection
from .views import QueryCancelled, View

__all__ = ["Store", "Filter", "Sort", "SortKey", "NEWEST_FIRST", "FollowerRow", "TagRow", "View",
           "Selection", "QueryCancelled"]
