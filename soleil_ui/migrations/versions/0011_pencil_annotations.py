"""annotations: immutable strokes on chart pages, per layer, with tombstones

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 01:15:00.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401
import soleil_ui.models  # noqa: F401


# revision identifiers, used by Alembic.
revision: str = '0011'
down_revision: Union[str, Sequence[str], None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('annotation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('band_id', sa.Integer(), nullable=False),
    sa.Column('stroke_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('chart_id', sa.Integer(), nullable=False),
    sa.Column('song_id', sa.Integer(), nullable=True),
    sa.Column('part_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('page', sa.Integer(), nullable=False),
    sa.Column('layer', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('tool', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('color', sqlmodel.sql.sqltypes.AutoString(length=9), nullable=False),
    sa.Column('width', sa.Float(), nullable=False),
    sa.Column('points', sa.JSON(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('chart_pages', sa.Integer(), nullable=False),
    sa.Column('chart_checksum', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('created_at', soleil_ui.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', soleil_ui.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('deleted_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['band_id'], ['band.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['chart_id'], ['chart.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['song_id'], ['song.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['author_id'], ['membership.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['deleted_by'], ['membership.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('band_id', 'stroke_id', name='uq_annotation_band_stroke')
    )
    with op.batch_alter_table('annotation', schema=None) as batch_op:
        batch_op.create_index('ix_annotation_chart_part_page', ['band_id', 'chart_id', 'part_key', 'page'],
                              unique=False)
        batch_op.create_index('ix_annotation_song', ['band_id', 'song_id', 'layer'], unique=False)
        batch_op.create_index(batch_op.f('ix_annotation_author_id'), ['author_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('annotation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_annotation_author_id'))
        batch_op.drop_index('ix_annotation_song')
        batch_op.drop_index('ix_annotation_chart_part_page')
    op.drop_table('annotation')
