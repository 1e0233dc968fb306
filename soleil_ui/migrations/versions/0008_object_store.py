"""object store: stored objects keyed by SHA-256, render leases across instances, night mode per account

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 22:30:00.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401
import soleil_ui.models  # noqa: F401


# revision identifiers, used by Alembic.
revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('stored_object',
    sa.Column('checksum', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('touched_at', soleil_ui.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('checksum')
    )
    with op.batch_alter_table('stored_object', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stored_object_sha256'), ['sha256'], unique=False)
    op.create_table('render_lease',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('holder', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('expires_at', soleil_ui.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('night_mode', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('night_mode')
    op.drop_table('render_lease')
    with op.batch_alter_table('stored_object', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stored_object_sha256'))
    op.drop_table('stored_object')
