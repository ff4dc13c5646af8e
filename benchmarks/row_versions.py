"""Row versions and index entries a PostgreSQL schema's tables were written, from the server's
own counters (`pg_stat_user_tables`): exact, whatever else loads the machine.

Each row inserted, and each update that is not HOT (heap-only: no indexed column changed and
the new version fit on its page), writes one entry into every index of its table; a HOT
update writes none. So per table, entries = (inserted + updated - HOT) x its indexes, exact
for full indexes; a partial index takes an entry only where its predicate holds, so for those
it is an upper bound (the outbox's two are complementary: exactly one of them an entry).
Partitions count as their partitioned table.

A backend hands its counters to the server when idle, at most once a second, at the latest
10 s after its last work (PostgreSQL 15), and when it exits: read them after the backends
that wrote went idle that long, or exited.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

TABLES = text(
    "SELECT coalesce(pg_partition_root(s.relid), s.relid)::regclass::text,"
    " sum(n_tup_ins), sum(n_tup_upd), sum(n_tup_hot_upd), sum(n_tup_del)"
    " FROM pg_stat_user_tables s WHERE s.schemaname = current_schema() GROUP BY 1"
)
# Per table, its indexes as declared on it (a partitioned table's, not each partition's copy).
INDEXES = text(
    "SELECT i.indrelid::regclass::text, count(*) FILTER (WHERE i.indpred IS NULL),"
    " count(*) FILTER (WHERE i.indpred IS NOT NULL)"
    " FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid"
    " WHERE c.relnamespace = current_schema()::regnamespace AND NOT c.relispartition"
    " GROUP BY 1"
)


@dataclass(frozen=True)
class Writes:
    inserted: int = 0
    updated: int = 0
    hot: int = 0
    deleted: int = 0

    def __sub__(self, other: Writes) -> Writes:
        return Writes(
            self.inserted - other.inserted,
            self.updated - other.updated,
            self.hot - other.hot,
            self.deleted - other.deleted,
        )

    @property
    def versions(self) -> int:
        """Row versions written: each insert and each update makes one."""
        return self.inserted + self.updated

    @property
    def indexed(self) -> int:
        """The versions that took an entry in each index: all but the HOT ones."""
        return self.inserted + self.updated - self.hot


def table_writes(connection: Connection) -> dict[str, Writes]:
    """The current schema's tables' counters since the server started (or they were reset)."""
    return {
        table: Writes(*(int(n) for n in counts)) for table, *counts in connection.execute(TABLES)
    }


def index_counts(connection: Connection) -> dict[str, tuple[int, int]]:
    """table -> (full indexes, partial indexes)."""
    return {table: (full, partial) for table, full, partial in connection.execute(INDEXES)}


def report(
    before: dict[str, Writes],
    after: dict[str, Writes],
    indexes: dict[str, tuple[int, int]],
    events: int,
) -> list[str]:
    """Per event: each table that was written (versions, of them HOT, deleted, index entries),
    then the totals."""
    per = lambda n: n / max(1, events)  # noqa: E731
    lines, versions, hot, entries, bound = [], 0, 0, 0, 0
    for table in sorted(after):
        change = after[table] - before.get(table, Writes())
        if not change.versions and not change.deleted:
            continue
        full, partial = indexes.get(table, (0, 0))
        versions, hot = versions + change.versions, hot + change.hot
        entries, bound = entries + change.indexed * full, bound + change.indexed * partial
        lines.append(
            f"     {table}: {per(change.inserted):.2f} inserted, {per(change.updated):.2f} "
            f"updated ({per(change.hot):.2f} HOT), {per(change.deleted):.2f} deleted; index "
            f"entries {per(change.indexed * full):.2f}"
            + (f" + at most {per(change.indexed * partial):.2f} partial" if partial else "")
        )
    lines.insert(
        0,
        f"   rows per event: {per(versions):.2f} versions written ({per(hot):.2f} HOT), "
        f"{per(entries):.2f} index entries + at most {per(bound):.2f} in partial indexes",
    )
    return lines
