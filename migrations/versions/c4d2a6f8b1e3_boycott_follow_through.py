"""Boycott follow-through: business pause periods and a scorecard of demands

Revision ID: c4d2a6f8b1e3
Revises: a4c7e9f1b3d5
Create Date: 2026-12-04 17:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4d2a6f8b1e3'
down_revision = 'a4c7e9f1b3d5'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
