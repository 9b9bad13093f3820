"""The full-text search index: an FTS5 table on SQLite, a tsvector table on PostgreSQL.

Neither fits a declarative model (FTS5 is a virtual table; tsvector has no SQLite type), so the
index is plain DDL, attached to the models' metadata: create_all (tests) and migration 0006
(init-db) build the same thing. blog.posts.search fills and queries it.
"""

from sqlalchemy import DDL, event

from blog.models.base import Base

SEARCH_TABLE = "search_index"

# SQLite: rowid is the post id. Porter stemming (English) over unicode61 words; diacritics are
# folded, so "cafe" finds "café". Columns are weighted at query time (bm25), title first.
SQLITE_DDL = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {SEARCH_TABLE} USING fts5("
    "title, excerpt, tags, authors, body, "
    "tokenize = 'porter unicode61 remove_diacritics 2')"
]
# PostgreSQL: per post, the title's words, the excerpt's, tags' and authors' words, and all of
# them with the body, each with a GIN index (search reads them in that order, and a weighted
# single vector would need every match rechecked from the table), gone with its post (ON DELETE
# CASCADE, so TRUNCATE posts CASCADE empties it too).
POSTGRES_DDL = [
    f"CREATE TABLE IF NOT EXISTS {SEARCH_TABLE} ("
    "post_id INTEGER PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE, "
    "title TSVECTOR NOT NULL, about TSVECTOR NOT NULL, document TSVECTOR NOT NULL)",
    *(
        f"CREATE INDEX IF NOT EXISTS ix_{SEARCH_TABLE}_{name} ON {SEARCH_TABLE} USING GIN ({name})"
        for name in ("title", "about", "document")
    ),
]
DROP_DDL = f"DROP TABLE IF EXISTS {SEARCH_TABLE}"


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic's include_name hook: leave the search index (and FTS5's shadow tables) out of
    autogenerate and schema comparisons, since no model describes them."""
    return not (type_ == "table" and name and name.startswith(SEARCH_TABLE))


def create_statements(dialect: str) -> list[str]:
    """Return the DDL that builds the search index on dialect ("sqlite" or "postgresql")."""
    return SQLITE_DDL if dialect == "sqlite" else POSTGRES_DDL


for _statement in SQLITE_DDL:
    event.listen(Base.metadata, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
for _statement in POSTGRES_DDL:
    event.listen(Base.metadata, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
event.listen(Base.metadata, "before_drop", DDL(DROP_DDL))
