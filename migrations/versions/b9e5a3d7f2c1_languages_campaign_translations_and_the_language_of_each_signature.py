"""Languages: a campaign's default and published languages and its translations, question and update translations, the language of each signature and business pledge

Revision ID: b9e5a3d7f2c1
Revises: a8d4f2c6e1b9
Create Date: 2026-12-05 00:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b9e5a3d7f2c1'
down_revision = 'a8d4f2c6e1b9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('campaign_translation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.String(length=500), nullable=False),
    sa.Column('story', sa.Text(), nullable=False),
    sa.Column('pledge_text', sa.Text(), nullable=False),
    sa.Column('demands', sa.Text(), nullable=False),
    sa.Column('share_text', sa.String(length=280), nullable=False),
    sa.Column('statement', sa.Text(), nullable=False),
    sa.Column('next_action', sa.Text(), nullable=False),
    sa.Column('date_question', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_campaign_translation_campaign_id_campaign'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_translation')),
    sa.UniqueConstraint('campaign_id', 'language', name='uq_campaign_translation_campaign_language')
    )
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('default_language', sa.String(length=8), server_default='en', nullable=False))
        batch_op.add_column(sa.Column('published_languages', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
    with op.batch_alter_table('sign_question', schema=None) as batch_op:
        batch_op.add_column(sa.Column('translations', sa.JSON(none_as_null=True), nullable=True))
    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))
    with op.batch_alter_table('campaign_update', schema=None) as batch_op:
        batch_op.add_column(sa.Column('translations', sa.JSON(none_as_null=True), nullable=True))
    with op.batch_alter_table('business', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table('business', schema=None) as batch_op:
        batch_op.drop_column('language')
    with op.batch_alter_table('campaign_update', schema=None) as batch_op:
        batch_op.drop_column('translations')
    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.drop_column('language')
    with op.batch_alter_table('sign_question', schema=None) as batch_op:
        batch_op.drop_column('translations')
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('published_languages')
        batch_op.drop_column('default_language')
    op.drop_table('campaign_translation')
