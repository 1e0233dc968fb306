"""stand crop: each PDF page's measured ink box on the chart, a member's own crop per chart

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 07:30:00.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401
import soleil_ui.models  # noqa: F401


# revision identifiers, used by Alembic.
revision: str = '0013'
down_revision: Union[str, Sequence[str], None] = '0012'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('chart', schema=None) as batch_op:
        batch_op.add_column(sa.Column('page_crops', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    op.create_table('stand_crop',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('band_id', sa.Integer(), nullable=False),
    sa.Column('membership_id', sa.Integer(), nullable=False),
    sa.Column('chart_id', sa.Integer(), nullable=False),
    sa.Column('mode', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('margins', sa.JSON(), nullable=False),
    sa.Column('updated_at', soleil_ui.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['band_id'], ['band.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['membership_id'], ['membership.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['chart_id'], ['chart.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('membership_id', 'chart_id', name='uq_stand_crop_member_chart')
    )
    with op.batch_alter_table('stand_crop', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stand_crop_band_id'), ['band_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stand_crop_chart_id'), ['chart_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('stand_crop', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stand_crop_chart_id'))
        batch_op.drop_index(batch_op.f('ix_stand_crop_band_id'))
    op.drop_table('stand_crop')
    with op.batch_alter_table('chart', schema=None) as batch_op:
        batch_op.drop_column('page_crops')
