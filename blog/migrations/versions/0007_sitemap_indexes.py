"""Sitemap indexes: sitemaps are built from indexes, never from post rows.

Post rows are large (HTML, Markdown, plain text), and updated_at comes after them, so every
row a sitemap query touched cost a read of the whole row: at 100,000 posts a cold build of
/sitemap.xml took 1.3 s on SQLite and each sitemap file 0.3-0.45 s.

- ix_posts_sitemap (type, id, status, published_at, updated_at, slug) holds everything the
  posts and pages sitemaps read, in the id order they list in: their files are counted out and
  read from the index alone.
- ix_posts_reader_listing gains updated_at, so the tags and authors sitemaps (newest visible
  post per tag or author) join the links to the listing index instead of to post rows.

Revision ID: 0007_sitemap_indexes
Revises: 0006_search
"""

from alembic import op

revision = "0007_sitemap_indexes"
down_revision = "0006_search"
branch_labels = None
depends_on = None

LISTING = ["type", "published_at", "id", "status"]


def upgrade():
    op.create_index(
        "ix_posts_sitemap",
        "posts",
        ["type", "id", "status", "published_at", "updated_at", "slug"],
        unique=False,
    )
    op.drop_index("ix_posts_reader_listing", table_name="posts")
    op.create_index("ix_posts_reader_listing", "posts", [*LISTING, "updated_at"], unique=False)


def downgrade():
    op.drop_index("ix_posts_reader_listing", table_name="posts")
    op.create_index("ix_posts_reader_listing", "posts", LISTING, unique=False)
    op.drop_index("ix_posts_sitemap", table_name="posts")
