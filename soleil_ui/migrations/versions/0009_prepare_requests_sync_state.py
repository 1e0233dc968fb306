"""prepare requests and sync state: a leader's "get this set ready offline" and a band's library sync progress
kept in the database, so every instance serves them

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 23:10:00.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401
import soleil_ui.models  # noqa: F401


# revision identifiers, used by Alembic.
revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('prepare_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('band_id', sa.Integer(), nullable=False),
    sa.Column('setlist_id', sa.Integer(), nullable=False),
    sa.Column('audio', sa.Boolean(), nullable=False),
    sa.Column('asked_by', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('asked_at', soleil_ui.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['band_id'], ['band.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['setlist_id'], ['setlist.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('prepare_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prepare_request_band_id'), ['band_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_prepare_request_setlist_id'), ['setlist_id'], unique=True)

    op.create_table('sync_state',
    sa.Column('band_id', sa.Integer(), nullable=False),
    sa.Column('progress', sa.JSON(), nullable=False),
    sa.Column('updated_at', soleil_ui.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['band_id'], ['band.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('band_id')
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('sync_state')
    with op.batch_alter_table('prepare_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prepare_request_setlist_id'))
        batch_op.drop_index(batch_op.f('ix_prepare_request_band_id'))

    op.drop_table('prepare_request')
