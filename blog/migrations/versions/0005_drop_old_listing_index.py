"""Drop ix_posts_listing: ix_posts_reader_listing (0004) covers the same queries and more.

Revision ID: 0005_drop_old_listing_index
Revises: 0004_reader_indexes
"""

from alembic import op

revision = "0005_drop_old_listing_index"
down_revision = "0004_reader_indexes"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index("ix_posts_listing", table_name="posts")


def downgrade():
    op.create_index("ix_posts_listing", "posts", ["type", "published_at", "id"], unique=False)
