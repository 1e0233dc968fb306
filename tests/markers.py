"""Marks shared by test modules."""

from __future__ import annotations

import pytest

# The UI's own tests (pages, components, headers, sign-in) run on SQLite only. What they do to the database goes
# through the services, which tests/test_<service>.py run on both databases, as do the hostile walk, the API and
# isolation tests, and the browser tests of two instances on one PostgreSQL. Run on both, the UI tests doubled their
# cost (three minutes of the suite's time) and found nothing the service tests hadn't.
SQLITE_ONLY = pytest.mark.sqlite_only  # tests/conftest.py: pytest_generate_tests
