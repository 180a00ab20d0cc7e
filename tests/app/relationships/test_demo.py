"""seed-demo drives the real services: relationships at different stages, and never twice."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.db import utcnow
from app.management import demo as organisation_demo
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
    assert found["Northwind joint logistics"].progress.current == 2
    assert found["Contoso shared research"].partner == "Contoso plc"
    # the test lifecycle has two stages only, so later targets run it to its end
    assert found["Fabrikam service alliance"].instance.status == "completed"
    assert "no management_system process is deployed" in first.output
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
        data = organisation_demo.sample(schema, lambda: "1", "2026-01-31")
        assert check(schema, data) == {}, name


@pytest.mark.slow
def test_seed_demo_on_the_bundled_diagrams_builds_one_management_system_with_relationships_under_it(
        app, session, bundled):
    from app.management import services as management
    from app.processes.models import HumanTask
    result = invoke(app, "seed-demo")
    assert result.exit_code == 0, result.output
    for bpmn_id in ("s1_policy", "s1_appoint_ser"):  # once for the organisation, whatever the relationships
        assert session.scalar(select(func.count()).select_from(HumanTask).where(
            HumanTask.bpmn_id == bpmn_id, HumanTask.state == "completed")) == 1, bpmn_id
    assert management.readiness(session, utcnow()).ready
    reviews = session.scalars(select(HumanTask.bpmn_id).where(HumanTask.state == "completed",
                                                              HumanTask.bpmn_id.in_(("or_management_review",
                                                                                     "ia_audit")))).all()
    assert "or_management_review" in reviews and "ia_audit" in reviews
    open_ncs = management.nonconformities(session)
    assert len(open_ncs) == 1 and open_ncs[0].step
    stages = {s.title: s.progress.current for s in relationships.summaries(session, now=utcnow())}
    assert stages == {title: target for title, _partner, target in demo.DEMO_RELATIONSHIPS}
