"""Sessions can be revoked: users.session_version is part of every session and remember-me
cookie, and sign-out, a password change and deactivation raise it.

Revision ID: 0006_safety
Revises: 0006_content_people
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_safety"
down_revision = "0006_content_people"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_version")
