"""live page turns: the leader's option, per live session, to have followers turn pages with the leader, and the
leader's page of the current song

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 07:50:00.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0012'
down_revision: Union[str, Sequence[str], None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('live_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('turn_pages', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('page', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('live_session', schema=None) as batch_op:
        batch_op.drop_column('page')
        batch_op.drop_column('turn_pages')
