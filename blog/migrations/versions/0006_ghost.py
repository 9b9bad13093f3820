"""Ghost: ids and social fields on posts, tags and users; integrations; imported image paths.

Every existing post, tag and user gets a Ghost-shaped id (and posts a uuid), so the Content API
can name them the way Ghost's clients expect.

Revision ID: 0006_ghost
Revises: 0005_drop_old_listing_index
"""

import sqlalchemy as sa
from alembic import op

from blog.models.base import new_uuid, object_id

revision = "0006_ghost"
down_revision = "0005_drop_old_listing_index"
branch_labels = None
depends_on = None

POST_COLUMNS = [
    ("canonical_url", 2000),
    ("og_image", 2000),
    ("og_title", 300),
    ("og_description", 500),
    ("twitter_image", 2000),
    ("twitter_title", 300),
    ("twitter_description", 500),
]


def _backfill(table: str, column: str, make) -> None:
    """Give every row of table without one a fresh value of column."""
    conn = op.get_bind()
    ids = conn.execute(sa.text(f"SELECT id FROM {table} WHERE {column} IS NULL")).scalars().all()
    for row_id in ids:
        conn.execute(
            sa.text(f"UPDATE {table} SET {column} = :value WHERE id = :id"),
            {"value": make(), "id": row_id},
        )


def upgrade():
    for table in ("posts", "tags", "users"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("ghost_id", sa.String(length=24), nullable=True))
            if table == "posts":
                batch_op.add_column(sa.Column("uuid", sa.String(length=36), nullable=True))
                for name, length in POST_COLUMNS:
                    batch_op.add_column(sa.Column(name, sa.String(length=length), nullable=True))
        _backfill(table, "ghost_id", object_id)
        if table == "posts":
            _backfill(table, "uuid", new_uuid)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_ghost_id"), ["ghost_id"], unique=True)
            if table == "posts":
                batch_op.create_index(batch_op.f("ix_posts_uuid"), ["uuid"], unique=True)

    op.create_table(
        "integrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=191), nullable=False),
        sa.Column("content_key", sa.String(length=26), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrations")),
    )
    with op.batch_alter_table("integrations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_integrations_content_key"), ["content_key"], unique=True
        )
    op.create_table(
        "ghost_images",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ghost_images")),
    )
    with op.batch_alter_table("ghost_images", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ghost_images_path"), ["path"], unique=True)


def downgrade():
    op.drop_table("ghost_images")
    op.drop_table("integrations")
    for table in ("posts", "tags", "users"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_ghost_id"))
            batch_op.drop_column("ghost_id")
            if table == "posts":
                batch_op.drop_index(batch_op.f("ix_posts_uuid"))
                batch_op.drop_column("uuid")
                for name, _ in POST_COLUMNS:
                    batch_op.drop_column(name)
