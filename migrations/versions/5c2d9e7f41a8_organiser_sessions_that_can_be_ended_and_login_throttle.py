"""Organiser sessions that can be ended, and failed logins per address

Revision ID: 5c2d9e7f41a8
Revises: 3b8e51c0a7d2
Create Date: 2026-12-04 15:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c2d9e7f41a8'
down_revision = '3b8e51c0a7d2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('organiser_session',
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('organiser_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['organiser_id'], ['organiser.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id_hash')
    )
    with op.batch_alter_table('organiser_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organiser_session_organiser_id'), ['organiser_id'], unique=False)
    op.create_table('login_throttle',
    sa.Column('login', sa.String(length=320), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('login')
    )


def downgrade():
    op.drop_table('login_throttle')
    with op.batch_alter_table('organiser_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organiser_session_organiser_id'))
    op.drop_table('organiser_session')
