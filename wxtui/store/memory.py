"""How much memory SQLite keeps in one process, every connection together.

Each connection has its own page cache (up to 64 MB, db._connect), and every thread that reads
has its own connection: the app reads from the threads of its executor, so on a large cache the
page caches alone grew with the data read (four readers of a 10M cache: over 250 MB). Past a
soft heap limit, SQLite recycles the pages of its caches instead of growing them; what the
caches then miss, the operating system's file cache still holds, so a query reads them back
from memory.
"""

from __future__ import annotations

import sqlite3

# Shared by all of the app's connections. At 64 MB the hot pages of a 1M cache no longer all
# stayed: a filter's first rows took 10 ms instead of 1 (bench/ui_bench.py).
APP_SQLITE_MEMORY = 128 * 2**20


def limit_sqlite_memory(limit: int = APP_SQLITE_MEMORY) -> int:
    """Set the process's soft heap limit for SQLite (0: none); returns the limit in force."""
    conn = sqlite3.connect(":memory:")
    try:
        (now,) = conn.execute(f"PRAGMA soft_heap_limit = {int(limit)}").fetchone()
        return now
    finally:
        conn.close()
