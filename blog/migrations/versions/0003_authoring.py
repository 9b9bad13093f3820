"""Authoring: settings, invites, slug redirects and the rest of the staff screens' tables.

Revision ID: 0003_authoring
Revises: 0002_newsletter
"""

revision = "0003_authoring"
down_revision = "0002_newsletter"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
