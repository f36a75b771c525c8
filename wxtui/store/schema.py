"""The cache's schema, as sqlite-utils migrations that upgrade an old file in place.

Each migration runs once, inside a transaction together with the record of it having been
applied (sqlite-utils keeps that record in `_sqlite_migrations`). Never edit or reorder a
migration that has shipped: add a new one at the end. Another part of wxtui (the bulk-action
journal) keeps its own tables in its own `Migrations` set and adds that set to
`migration_sets()`.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

cache_migrations = Migrations("wxtui.store")


@cache_migrations()
def m001_cache(db: Database) -> None:
    # Followers get an INTEGER PRIMARY KEY: views and selections are arrays of these ids.
    # tag_count duplicates what memberships say per follower, so that "untagged" is a partial
    # index (first rows and exact count in milliseconds) instead of a million NOT EXISTS probes.
    # remark is '' for most followers (70% in the demo data); the partial
    # index holds only the non-empty ones, so a remark search scans that compact index.
    _execute_all(db, """
        CREATE TABLE tags (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            count INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE followers (
            id INTEGER PRIMARY KEY,
            openid TEXT NOT NULL UNIQUE,
            remark TEXT NOT NULL DEFAULT '',
            subscribe_time INTEGER NOT NULL DEFAULT 0,
            scene TEXT NOT NULL DEFAULT '',
            language TEXT NOT NULL DEFAULT '',
            unionid TEXT NOT NULL DEFAULT '',
            qr_scene INTEGER NOT NULL DEFAULT 0,
            qr_scene_str TEXT NOT NULL DEFAULT '',
            subscribed INTEGER NOT NULL DEFAULT 1,
            tag_count INTEGER NOT NULL DEFAULT 0,
            sync_pass INTEGER NOT NULL DEFAULT 0,
            synced_at INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX followers_by_subscribe_time ON followers(subscribe_time);
        CREATE INDEX followers_untagged ON followers(subscribe_time) WHERE tag_count = 0;
        CREATE INDEX followers_by_remark ON followers(remark) WHERE remark != '';

        -- subscribe_time is copied here so that "tag X by subscribe time" walks one index
        -- (tens of ms at 600k members) instead of sorting a join (seconds).
        CREATE TABLE memberships (
            follower INTEGER NOT NULL,
            tagid INTEGER NOT NULL,
            subscribe_time INTEGER NOT NULL,
            PRIMARY KEY (follower, tagid)
        ) WITHOUT ROWID;
        CREATE INDEX memberships_by_tag ON memberships(tagid, subscribe_time, follower);

        -- By openid: the platform's blacklist may name people who no longer follow.
        CREATE TABLE blacklist (openid TEXT PRIMARY KEY) WITHOUT ROWID;

        -- Sync cursors and times, small settings of this account's cache.
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

        -- A selection is explicit ids, or a filter (JSON) plus exceptions: members with
        -- included = 1 are added to whatever the filter matches, included = 0 are taken out.
        CREATE TABLE selections (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            filter TEXT
        );
        CREATE TABLE selection_members (
            selection INTEGER NOT NULL REFERENCES selections(id) ON DELETE CASCADE,
            follower INTEGER NOT NULL,
            included INTEGER NOT NULL,
            PRIMARY KEY (selection, follower)
        ) WITHOUT ROWID;
        """)


@cache_migrations()
def m002_sync_passes(db: Database) -> None:
    # A full sync now writes into a shadow copy of followers without indexes and swaps it in
    # at its end (see passes.py), so the table loses its inline UNIQUE (an index that could
    # not be left out of the copy) for a named unique index, and the per-row pass marker.
    # Write-through effects that happen while a pass runs are kept in sync_replay and applied
    # again to the swapped-in tables. The remark index carries subscribe_time, so a remark
    # search sorts its matches without reading their rows.
    _execute_all(db, """
        CREATE TABLE followers_v2 (
            id INTEGER PRIMARY KEY,
            openid TEXT NOT NULL,
            remark TEXT NOT NULL DEFAULT '',
            subscribe_time INTEGER NOT NULL DEFAULT 0,
            scene TEXT NOT NULL DEFAULT '',
            language TEXT NOT NULL DEFAULT '',
            unionid TEXT NOT NULL DEFAULT '',
            qr_scene INTEGER NOT NULL DEFAULT 0,
            qr_scene_str TEXT NOT NULL DEFAULT '',
            subscribed INTEGER NOT NULL DEFAULT 1,
            tag_count INTEGER NOT NULL DEFAULT 0,
            synced_at INTEGER NOT NULL DEFAULT 0
        );
        INSERT INTO followers_v2 SELECT id, openid, remark, subscribe_time, scene, language, unionid,
            qr_scene, qr_scene_str, subscribed, tag_count, synced_at FROM followers;
        DROP TABLE followers;
        ALTER TABLE followers_v2 RENAME TO followers;
        CREATE UNIQUE INDEX followers_by_openid ON followers(openid);
        CREATE INDEX followers_by_subscribe_time ON followers(subscribe_time);
        CREATE INDEX followers_untagged ON followers(subscribe_time) WHERE tag_count = 0;
        CREATE INDEX followers_by_remark ON followers(remark, subscribe_time) WHERE remark != '';
        CREATE TABLE sync_replay (
            seq INTEGER PRIMARY KEY,
            op TEXT NOT NULL,
            args TEXT NOT NULL
        );
        """)



@cache_migrations()
def m003_remarks_by_time(db: Database) -> None:
    # The non-empty remarks again, in subscribe-time order: a text search in the default order
    # walks this newest first and stops at the first screenful of matches, and one that matches
    # no one reads only this index (never the rows), at any size of account.
    db.execute("CREATE INDEX followers_remark_by_time ON followers(subscribe_time, id, remark) WHERE remark != ''")


@cache_migrations()
def m004_tag_members(db: Database) -> None:
    # Each tag's members as a compressed bitmap (tagsets.py), valid while its version is the
    # tag's members_version. Every write that changes a tag's members updates its count, so a
    # trigger on that update marks the bitmap stale; a tag deleted or written anew takes its
    # bitmap along.
    for statement in (
        "ALTER TABLE tags ADD COLUMN members_version INTEGER NOT NULL DEFAULT 0",
        "CREATE TABLE tag_members (tagid INTEGER PRIMARY KEY, version INTEGER NOT NULL, members BLOB NOT NULL)",
        "CREATE TRIGGER tag_members_stale AFTER UPDATE OF count ON tags BEGIN "
        "UPDATE tags SET members_version = members_version + 1 WHERE id = NEW.id; END",
        "CREATE TRIGGER tag_members_gone AFTER DELETE ON tags BEGIN "
        "DELETE FROM tag_members WHERE tagid = OLD.id; END",
        # INSERT OR REPLACE fires the delete trigger only under recursive_triggers: insert clears too.
        "CREATE TRIGGER tag_members_new AFTER INSERT ON tags BEGIN "
        "DELETE FROM tag_members WHERE tagid = NEW.id; END",
    ):
        db.execute(statement)


@cache_migrations()
def m005_untagged_covering(db: Database) -> None:
    # SQLite reads every row of a partial index's scan to test its own condition unless the
    # column is in the index: with tag_count in it, the untagged count (the tag list's, at
    # every launch) reads the index alone (97 -> 22 ms at 1M). id keeps (subscribe_time, id)
    # the index's order, so the view's walk needs no sort.
    db.execute("DROP INDEX followers_untagged")
    db.execute("CREATE INDEX followers_untagged ON followers(subscribe_time, id, tag_count) WHERE tag_count = 0")


@cache_migrations()
def m006_segments(db: Database) -> None:
    # A segment keeps its filter as JSON by tag id (a renamed tag stays in it); its query is
    # written afresh from the current tag names whenever it is shown.
    _execute_all(db, """
        CREATE TABLE segments (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            filter TEXT NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        """)


@cache_migrations()
def m007_rules(db: Database) -> None:
    # A rule names its segment by name (segments are saved and replaced by name, so a segment
    # saved again keeps its rules) and its tag by id, with the tag's name when last seen: a
    # rule whose segment or tag is gone can still say which one it was. Rules are not deleted
    # with their segment or tag: they are reported and skipped until the user deletes them.
    _execute_all(db, """
        CREATE TABLE rules (
            id INTEGER PRIMARY KEY,
            segment TEXT NOT NULL,
            tagid INTEGER NOT NULL,
            tag_name TEXT NOT NULL,
            remove_leavers INTEGER NOT NULL DEFAULT 0,
            automatic INTEGER NOT NULL DEFAULT 0,
            paused INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            last_run_at REAL,
            last_job INTEGER,
            last_result TEXT NOT NULL DEFAULT '',
            UNIQUE (segment, tagid)
        );
        """)


@cache_migrations()
def m008_follower_sets(db: Database) -> None:
    # Followers by scene, language, day and remark characters as bitmaps (followersets.py),
    # current while `built` equals `changes`, which the triggers on followers bump, and `format`
    # is the one followersets.py writes (a later wxtui that keeps other sets rebuilds); with them,
    # how many followers there are (count(*) reads the whole table: 100 ms at 10M). Left stale
    # here: the next count builds them from the table; a sync collects them as it writes.
    _execute_all(db, """
        CREATE TABLE follower_sets (
            kind TEXT NOT NULL,
            key NOT NULL,
            members BLOB NOT NULL,
            PRIMARY KEY (kind, key)
        ) WITHOUT ROWID;
        CREATE TABLE follower_sets_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            changes INTEGER NOT NULL,
            built INTEGER,
            format INTEGER NOT NULL DEFAULT 0,
            followers INTEGER
        );
        INSERT INTO follower_sets_state (id, changes, built) VALUES (1, 0, NULL)
        """)
    from .followersets import TRIGGERS

    for sql in TRIGGERS:
        db.execute(sql)


@cache_migrations()
def m009_selection_snapshots(db: Database) -> None:
    # "Select all that match" keeps the followers that matched when it was pressed, as a
    # bitmap (selections.py), no longer the filter itself: a job that tags the untagged it
    # selected used to empty the selection as it ran (and an undo filled it again). Selections
    # kept as a filter by an older version are turned into their members when first read.
    db.execute("ALTER TABLE selections ADD COLUMN members BLOB")


def _execute_all(db: Database, script: str) -> None:
    # Not executescript(): it commits first, which would break the migration's transaction.
    for statement in script.split(";"):
        lines = [line for line in statement.splitlines() if not line.strip().startswith("--")]
        if "".join(lines).strip():
            db.execute("\n".join(lines))


def migration_sets() -> list[Migrations]:
    """Every migration set the cache file carries, applied in this order on open."""
    from wxtui.jobs.journal import journal_migrations
    from wxtui.store.history import history_migrations

    return [cache_migrations, journal_migrations, history_migrations]


def migrate(db: Database) -> None:
    for migrations in migration_sets():
        migrations.apply(db)
