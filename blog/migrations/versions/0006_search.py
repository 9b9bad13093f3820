"""The full-text search index (FTS5 on SQLite, tsvector + GIN on PostgreSQL), filled from the
posts already there.

Revision ID: 0006_search
Revises: 0006_editor
"""

from alembic import op

from blog.models.search import DROP_DDL, create_statements

revision = "0006_search"
down_revision = "0006_editor"
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    for statement in create_statements(bind.dialect.name):
        op.execute(statement)
    from blog.posts.search.indexer import rebuild

    rebuild(bind)


def downgrade():
    op.execute(DROP_DDL)
