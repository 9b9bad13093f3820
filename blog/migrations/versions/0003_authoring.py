"""Authoring: settings, invites, slug redirects and the rest of the staff screens' tables.

Revision ID: 0003_authoring
Revises: 0002_newsletter
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_authoring"
down_revision = "0002_newsletter"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )
    op.create_table(
        "invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("accepted_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["users.id"],
            name=op.f("fk_invites_invited_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invites")),
    )
    with op.batch_alter_table("invites", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invites_email"), ["email"], unique=False)
        batch_op.create_index(batch_op.f("ix_invites_token_hash"), ["token_hash"], unique=True)
        batch_op.create_index(batch_op.f("ix_invites_invited_by_id"), ["invited_by_id"])

    op.create_table(
        "slug_redirects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("old_slug", sa.String(length=191), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_slug_redirects_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slug_redirects")),
    )
    with op.batch_alter_table("slug_redirects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_slug_redirects_old_slug"), ["old_slug"], unique=True)
        batch_op.create_index(batch_op.f("ix_slug_redirects_post_id"), ["post_id"])

    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_attempts_created_at"), ["created_at"])
        batch_op.create_index("ix_login_attempts_lookup", ["scope", "key", "created_at"])


def downgrade():
    op.drop_table("login_attempts")
    op.drop_table("slug_redirects")
    op.drop_table("invites")
    op.drop_table("settings")
