"""drive folder proof: how and when a band proved its Drive folder is its own, and the folder's ancestry

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 21:45:00.000000

Existing connections get no proof (``verified_at`` NULL): they keep syncing and their leader is asked to verify.
``ancestry`` is NOT NULL with a ``[]`` server default, so raw inserts from older code paths (restores) still work.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401
import soleil_ui.models  # noqa: F401


# revision identifiers, used by Alembic.
revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('library_source', schema=None) as batch_op:
        batch_op.add_column(sa.Column('proof', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('verified_at', soleil_ui.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('ancestry', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('library_source', schema=None) as batch_op:
        batch_op.drop_column('ancestry')
        batch_op.drop_column('verified_at')
        batch_op.drop_column('proof')
