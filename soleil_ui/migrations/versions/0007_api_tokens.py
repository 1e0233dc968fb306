"""api tokens: personal access tokens for the JSON API and the MCP server (hashed, scoped, expiring)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 21:40:00.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401
import soleil_ui.models  # noqa: F401


# revision identifiers, used by Alembic.
revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('band_id', sa.Integer(), nullable=False),
    sa.Column('membership_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('prefix', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('created_at', soleil_ui.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', soleil_ui.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', soleil_ui.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', soleil_ui.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['band_id'], ['band.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['membership_id'], ['membership.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_band_id'), ['band_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_api_token_membership_id'), ['membership_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_api_token_token_hash'), ['token_hash'], unique=True)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_token_hash'))
        batch_op.drop_index(batch_op.f('ix_api_token_membership_id'))
        batch_op.drop_index(batch_op.f('ix_api_token_band_id'))

    op.drop_table('api_token')
