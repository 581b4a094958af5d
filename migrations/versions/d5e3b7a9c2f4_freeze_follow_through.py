"""Freeze follow-through: the statement, local-hours windows, reminders and check-ins

Revision ID: d5e3b7a9c2f4
Revises: c4d2a6f8b1e3
Create Date: 2026-12-04 17:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd5e3b7a9c2f4'
down_revision = 'c4d2a6f8b1e3'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
