"""seed-demo drives the real services: relationships at different stages, and never twice."""

from __future__ import annotations

from sqlalchemy import func, select

from app.processes.models import ProcessInstance
from app.relationships import demo
from app.relationships import services as relationships
from tests.support.bundles import T0
from tests.support.cli import invoke


def test_seed_demo_starts_relationships_at_their_stages_once(app, session, lifecycle):
    first = invoke(app, "seed-demo")
    assert first.exit_code == 0, first.output
    assert "partner-jmt" in first.output  # the demo users the test fixture did not make
    assert f"{len(demo.DEMO_RELATIONSHIPS)} demo relationship(s) started" in first.output
    found = {s.title: s for s in relationships.summaries(session, now=T0)}
    assert found["Northwind joint logistics"].progress.current == 1
    assert found["Northwind joint logistics"].open_tasks == 1
    assert found["Contoso shared research"].progress.current == 2
    assert found["Contoso shared research"].partner == "Contoso plc"
    # the test lifecycle has two stages only, so later targets run it to its end
    assert found["Fabrikam service alliance"].instance.status == "completed"
    again = invoke(app, "seed-demo")
    assert again.exit_code == 0 and "started" not in again.output
    assert session.scalar(select(func.count()).select_from(ProcessInstance)
                          .where(ProcessInstance.parent_id.is_(None))) == len(demo.DEMO_RELATIONSHIPS)


def test_seed_demo_says_when_no_lifecycle_is_deployed(app, session, version):
    result = invoke(app, "seed-demo")
    assert result.exit_code == 0 and "no lifecycle process is deployed" in result.output


def test_sample_data_is_valid_for_every_kind_of_field():
    import json

    from app.inbox.binding import check
    from tests.support.web import read_web_bundle
    _files, forms = read_web_bundle()
    for name in ("policy.schema.json", "gate.schema.json", "case.schema.json"):
        schema = json.loads(forms[name])
        data = demo.sample(schema, lambda: "1", "2026-01-31")
        assert check(schema, data) == {}, name
