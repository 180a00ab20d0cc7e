"""A relationship with a partner organisation, on the pages' test lifecycle, for the import tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def partnered(session, wf_engine, users, lifecycle):
    """A relationship 'Tailspin' whose partner is the test partner's organisation -> its id."""
    from app.db import utcnow
    from app.relationships import services as relationships
    return relationships.start(session, wf_engine, users["staff"], title="Tailspin", partner="Partner Ltd",
                               now=utcnow()).instance_id
