"""speed: search indexes. The band's songs in title order (band_id, search_key), so a page of results is read in
order and stops after 50 instead of sorting the whole band; on PostgreSQL the folded title's index becomes a trigram
index (pg_trgm), which LIKE '%word%' uses for words of three letters or more. Results are unchanged: the same LIKE
over the same folded key decides, the indexes only find the rows sooner.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 01:25:00.000000
"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index('ix_song_band_search', 'song', ['band_id', 'search_key'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        op.drop_index('ix_song_search_key', table_name='song')
        op.execute('CREATE INDEX ix_song_search_key ON song USING gin (search_key gin_trgm_ops)')


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_song_search_key', table_name='song')
        op.create_index('ix_song_search_key', 'song', ['search_key'], unique=False)
    op.drop_index('ix_song_band_search', table_name='song')
