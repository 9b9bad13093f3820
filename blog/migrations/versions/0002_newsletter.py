"""Newsletter: subscribers, the mail outbox and per-recipient deliveries.

Revision ID: 0002_newsletter
Revises: 0001_initial
"""

revision = "0002_newsletter"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
