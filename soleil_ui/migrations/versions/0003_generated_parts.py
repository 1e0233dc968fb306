"""generated parts: a MusicXML or ChordPro chart's servable parts and concert key, members' key preferences

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 13:40:00.000000

``chart.parts`` is NOT NULL: existing rows (PDFs) get ``[]`` through a server default, kept so raw inserts from
older code paths (restores of an older backup) still work.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401
import soleil_ui.models  # noqa: F401


# revision identifiers, used by Alembic.
revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('chart', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parts', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column('source_key', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True))

    op.create_table('member_song_pref',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('band_id', sa.Integer(), nullable=False),
    sa.Column('membership_id', sa.Integer(), nullable=False),
    sa.Column('song_id', sa.Integer(), nullable=False),
    sa.Column('musical_key', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    sa.Column('octave_shift', sa.Integer(), nullable=False),
    sa.Column('updated_at', soleil_ui.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['band_id'], ['band.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['membership_id'], ['membership.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['song_id'], ['song.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('membership_id', 'song_id', name='uq_member_song_pref')
    )
    with op.batch_alter_table('member_song_pref', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_song_pref_band_id'), ['band_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_member_song_pref_song_id'), ['song_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('member_song_pref', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_song_pref_song_id'))
        batch_op.drop_index(batch_op.f('ix_member_song_pref_band_id'))

    op.drop_table('member_song_pref')
    with op.batch_alter_table('chart', schema=None) as batch_op:
        batch_op.drop_column('source_key')
        batch_op.drop_column('parts')
