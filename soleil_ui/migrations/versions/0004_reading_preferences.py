"""reading preferences and chart corrections: how a member reads on each instrument, what a file itself says

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 22:00:00.000000

``membership.reading`` is NOT NULL: existing members get ``{}`` (the default way of reading for every instrument)
through a server default, kept so raw inserts from older code paths (restores of an older backup) still work.
``chart.parsed_part_key`` is filled from ``part_key`` for files no leader corrected (that *is* what the file says);
for corrected ones the next sync that reads the file fills it, and undoing before then reads the file's name.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401


# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reading', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
    with op.batch_alter_table('chart', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parsed_part_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    op.execute(sa.text("UPDATE chart SET parsed_part_key = part_key WHERE NOT manual"))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('chart', schema=None) as batch_op:
        batch_op.drop_column('parsed_part_key')
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_column('reading')
