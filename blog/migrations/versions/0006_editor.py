"""Post revisions, the go-live newsletter flag and the draft share link's key.

Revision ID: 0006_editor
Revises: 0006_safety
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_editor"
down_revision = "0006_safety"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "post_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("markdown", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_post_revisions_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_post_revisions_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_revisions")),
    )
    with op.batch_alter_table("post_revisions", schema=None) as batch_op:
        batch_op.create_index("ix_post_revisions_post_id_id", ["post_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_post_revisions_author_id"), ["author_id"])
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("email_when_published", sa.Boolean(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("preview_key", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_column("preview_key")
        batch_op.drop_column("email_when_published")
    with op.batch_alter_table("post_revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_post_revisions_author_id"))
        batch_op.drop_index("ix_post_revisions_post_id_id")
    op.drop_table("post_revisions")
