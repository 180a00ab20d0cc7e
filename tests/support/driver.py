"""Drives the real lifecycle through the real services (database, engine, sandbox, audit) with a test clock.

A person completes each ready task: the driver picks a user whose role and organisation fit the task's lane
(an SER for SER gates, the partner's SER for Partner SER tasks), fills the form the way a person would
(the current values of the same fields pre-filled, the rest filled with valid sample values, then the
scenario's answers on top), and checks the data against the task's JSON Schema before submitting.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import jsonschema
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.inbox.binding import declared
from app.lifecycle import services as lifecycle
from app.processes import services
from app.processes.choices import has_choices, with_choices
from app.processes.forms import form_schema
from app.processes.models import HumanTask, ProcessInstance
from app.processes.store import SqlInstanceStore

START_TIME = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)  # when the lifecycle tests' relationships start
START = {"relationship_name": "ACME joint bid"}     # their start data


# ----------------------------------------------------------------------------------------------- form data
def sample(schema, name="value"):
    """Minimal-but-complete valid data for a schema: every property filled, first enum value."""
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        return {k: sample(s, k) for k, s in schema.get("properties", {}).items()}
    if kind == "array":
        items = schema.get("items", {})
        if "enum" in items:
            return items["enum"][: max(1, schema.get("minItems", 1))]
        return [sample(items, name) for _ in range(max(1, schema.get("minItems", 1)))]
    if kind == "integer":
        return (schema.get("minimum", 0) + schema.get("maximum", 10)) // 2
    if kind == "number":
        return float(schema.get("minimum", 0)) + 100.0
    if kind == "boolean":
        return True
    if kind == "string":
        if schema.get("format") == "date":
            return "2025-03-01"
        if schema.get("format") == "evidence":
            return f"evidence-{name}"
        if schema.get("pattern", "").startswith("^P"):
            return "P5D"
        return f"{name} text"[: schema.get("maxLength", 300)]
    raise ValueError(f"cannot sample {schema}")


def complete_missing(value, schema, name="value"):
    """Add what a pre-filled value lacks for this schema (a later form may ask for more columns)."""
    if schema.get("type") == "object" and isinstance(value, dict):
        for key, sub in schema.get("properties", {}).items():
            value[key] = complete_missing(value[key], sub, key) if value.get(key) is not None else sample(sub, key)
        return value
    if schema.get("type") == "array" and isinstance(value, list) and schema.get("items", {}).get("type") == "object":
        return [complete_missing(v, schema["items"], name) for v in value] or sample(schema, name)
    return value


def deep_update(base, overrides):
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            deep_update(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def fill_form(schema, current, overrides=None):
    """What a person submits: current values of the form's fields kept, the rest sampled, then the answers."""
    data = {}
    for key, sub in schema.get("properties", {}).items():
        data[key] = complete_missing(copy.deepcopy(current[key]), sub, key) \
            if current.get(key) is not None else sample(sub, key)
    deep_update(data, overrides or {})
    validator = jsonschema.validators.validator_for(schema)
    errors = [f"{list(e.path)}: {e.message}" for e in validator(schema).iter_errors(data)]
    assert not errors, f"the scenario's form data is invalid: {errors}"
    return data


def cite_evidence(schema, value, upload, name="value"):
    """Replace every sampled evidence value with what `upload(field name)` returns: the id of a file really
    uploaded for it (the API walk and the benchmarks' walker)."""
    if schema.get("format") == "evidence" and isinstance(value, str):
        return upload(name)
    if isinstance(value, dict):
        props = schema.get("properties", {})
        return {k: cite_evidence(props.get(k, {}), v, upload, k) for k, v in value.items()}
    if isinstance(value, list):
        return [cite_evidence(schema.get("items", {}), v, upload, name) for v in value]
    return value


def is_valid(schema, data) -> bool:
    return jsonschema.validators.validator_for(schema)(schema).is_valid(data)


# ----------------------------------------------------------------------------------------------- driver
class Driver:
    """One instance (a relationship, or a linked issue/review), driven through the services."""

    def __init__(self, session, svc, users, instance_id, now, *, organisation=True):
        self.session, self.svc, self.users, self.instance_id = session, svc, users, instance_id
        self.now: datetime = now
        self.submitted: list[tuple[str, dict]] = []
        # a relationship waiting before stage 4 for the organisation's approved internal assessment gets one, as
        # the organisation would give it (its management system driven to an approved stage 3); False: it waits
        self.organisation = organisation

    @classmethod
    def start(cls, session, svc, users, process_id="lifecycle", data=None, *, now, title="ACME joint bid"):
        result = services.start_instance(session, svc.workflows, user=users["staff"], process_id=process_id,
                                         data=data or {}, title=title, now=now)
        if process_id == "lifecycle":  # the partner users of the fixtures work this relationship's joint tasks
            from app.auth.models import RelationshipPartner, RelationshipProfile
            partner = users["pser"].organisation
            session.add(RelationshipProfile(instance_id=result.instance_id, partner_name=partner.name,
                                            partner_organisation_id=partner.id, created_at=now))
            session.add(RelationshipPartner(instance_id=result.instance_id, organisation_id=partner.id,
                                            partner_name=partner.name, created_at=now))
            session.commit()
        return cls(session, svc, users, result.instance_id, now)

    def linked_driver(self, instance_id):
        return Driver(self.session, self.svc, self.users, instance_id, self.now)

    # ---------------------------------------------------------------- reading rows
    def instance(self) -> ProcessInstance:
        self.session.expire_all()
        return self.session.get(ProcessInstance, self.instance_id)

    def ready(self) -> list[HumanTask]:
        self.session.expire_all()
        return list(self.session.scalars(select(HumanTask).where(
            HumanTask.instance_id == self.instance_id, HumanTask.state == "ready").order_by(HumanTask.id)))

    def ready_names(self) -> list[str]:
        return [row.bpmn_id for row in self.ready()]

    def task(self, name) -> HumanTask:
        rows = [row for row in self.ready() if row.bpmn_id == name]
        assert rows, f"{name} is not ready; ready: {self.ready_names()}"
        return rows[0]

    def task_data(self, name_or_row) -> dict:
        row = self.task(name_or_row) if isinstance(name_or_row, str) else name_or_row
        engine = self.svc.workflows.using(SqlInstanceStore(self.session))
        return engine.get_task(self.instance_id, row.task_id).data

    def latest_data(self) -> dict:
        return self.svc.workflows.using(SqlInstanceStore(self.session)).instance_data(self.instance_id)

    @property
    def completed(self) -> bool:
        return self.instance().status == "completed"

    @property
    def data(self) -> dict:
        return self.instance().data

    def schema_of(self, row) -> dict:
        """The form as its page offers it: choices taken from the process's data included."""
        version_id = self.instance().version_id
        schema = form_schema(self.session, version_id, row.form_key)
        ui = form_schema(self.session, version_id, row.ui_form_key)
        return with_choices(schema, ui, self.task_data(row)) if has_choices(ui) else schema

    def linked(self, process_id=None, status=None) -> list[ProcessInstance]:
        self.session.expire_all()
        query = select(ProcessInstance).where(ProcessInstance.parent_id == self.instance_id)
        if process_id:
            query = query.where(ProcessInstance.process_id == process_id)
        if status:
            query = query.where(ProcessInstance.status == status)
        return list(self.session.scalars(query.order_by(ProcessInstance.id)))

    def linked_data(self, process_id=None) -> list[dict]:
        engine = self.svc.workflows.using(SqlInstanceStore(self.session))
        return [engine.instance_data(child.id) for child in self.linked(process_id)]

    def audit(self, action=None, instance_id=None) -> list[AuditEvent]:
        query = select(AuditEvent).where(AuditEvent.instance_id == (instance_id or self.instance_id))
        if action:
            query = query.where(AuditEvent.action == action)
        return list(self.session.scalars(query.order_by(AuditEvent.id)))

    # ---------------------------------------------------------------- acting
    def waits_for_organisation(self) -> bool:
        from app.management.models import RelationshipFoundation
        self.session.expire_all()
        row = self.session.get(RelationshipFoundation, self.instance_id)
        return row is not None and row.waiting_since is not None and row.released_at is None

    def user_for(self, row):
        if row.role == "ser" and row.approval_gate and row.process_id == "stage4_partner_selection":
            return self.users["ser2"]  # four eyes: the SER who selected the partner may not approve stage 4
        if row.role == "ser":
            return self.users["pser" if row.partner_side else "ser"]
        if row.role == "top_management":
            return self.users["top"]
        return self.users.get(row.role or "staff", self.users["staff"])

    def complete(self, name_or_row, overrides=None, user=None, advance=timedelta(0)) -> dict:
        row = self.task(name_or_row) if isinstance(name_or_row, str) else name_or_row
        schema = self.schema_of(row)
        data = fill_form(schema, declared(schema, self.task_data(row)), overrides)  # as the page pre-fills it
        self.now += advance
        services.complete_task(self.session, self.svc.workflows, user=user or self.user_for(row),
                               human_task_id=row.id, data=data, now=self.now)
        self.submitted.append((row.bpmn_id, data))
        return data

    def drive(self, answers=None, until=None, max_steps=400):
        """Complete ready tasks in order until `until(driver)`, nothing is ready, or the end.

        `answers` maps a task name to overrides, or to a list used one per occurrence.
        """
        answers = {k: (list(v) if isinstance(v, list) else v) for k, v in (answers or {}).items()}
        for _ in range(max_steps):
            if until and until(self):
                return self
            ready = self.ready() if self.instance().status == "running" else []
            if not ready and self.organisation and self.waits_for_organisation():
                approve_organisation(self.session, self.svc, self.users, self.now)
                continue  # released: look at `until` again before working the first task of stage 4
            if not ready:
                assert until is None, f"stopped ({self.instance().status}) before the awaited task was ready"
                return self
            answer = answers.get(ready[0].bpmn_id, {})
            if isinstance(answer, list):
                answer = answer.pop(0) if answer else {}
            self.complete(ready[0], answer)
        raise AssertionError(f"still running after {max_steps} steps; ready: {self.ready_names()}")

    def wake(self, at: datetime | None = None, **delta):
        """Let time pass and let the scheduler fire what is due."""
        self.now = at or (self.now + timedelta(**delta))
        return services.fire_due_timers(self.session, self.svc.workflows, now=self.now)

    def signal(self, name, payload, user=None):
        return services.send_signal(self.session, self.svc.workflows, user=user or self.users["jmt"],
                                    instance_id=self.instance_id, name=name, payload=payload, now=self.now)

    def raise_issue(self, title, description="", user=None):
        result = lifecycle.raise_issue(self.session, self.svc.workflows, user=user or self.users["jmt"],
                                       relationship_id=self.instance_id, title=title, description=description,
                                       now=self.now)
        return self.linked_driver(result.instance_id)

    def raise_exit_trigger(self, reason, user=None):
        return lifecycle.raise_exit_trigger(self.session, self.svc.workflows, user=user or self.users["jmt"],
                                            relationship_id=self.instance_id, reason=reason, now=self.now)


def approve_organisation(session, svc, users, now, answers=None) -> Driver:
    """The organisation's management system (started when there is none) driven until its internal assessment
    (stage 3) is approved: the state every relationship needs before stage 4. -> its Driver."""
    from app.management import services as management
    ms = management.management_system(session)
    if ms is None:
        ms_id = management.start(session, svc.workflows, users["top"], now=now).instance_id
    else:
        ms_id = ms.id
    driver = Driver(session, svc, users, ms_id, now)
    driver.drive(answers, until=lambda d: management.readiness(session, d.now).ready)
    session.commit()
    return driver


def until_ready(name):
    return lambda driver: name in driver.ready_names()


# ------------------------------------------------------------------------------------ scenario helpers
GREEN = {k: {"rating": "green", "evidence": "on plan"} for k in ("outputs", "risk", "alignment", "behaviours", "trust")}


def work_due_reviews(rel: Driver):
    """Complete every ready task of every running review (green ratings), as the teams would."""
    for child in rel.linked("periodic_review", status="running"):
        review = rel.linked_driver(child.id)
        review.now = rel.now
        review.drive({"pr_performance_review": {"performance_ratings": GREEN, "overall_rating": "green"},
                      "pr_ser_performance_feedback": {"overall_rating": "green", "corrective_actions": []},
                      "pr_ser_performance_feedback_partner": {"partner_corrective_actions": []}})


def live_a_year_in_stage_7(rel, *, organisation=False):
    """Let a year pass in stage 7 with every periodic review done when it falls due (with `organisation`, the
    organisation's own reviews, audits and reassessment too)."""
    from workflows import add_period
    rel.drive(until=until_ready("s7_manage_activities"))
    anchor = rel.now
    for month in range(1, 13):
        rel.wake(at=add_period(anchor, "P1M", month) + timedelta(minutes=1))
        work_due_reviews(rel)
        if organisation:
            work_organisation(rel)


# impartial, clean audits and a review that raises nothing: the organisation's scenarios raise their own
ORGANISATION_ANSWERS = {"ia_audit": {"auditor_area": "improvement", "findings": []},
                        "or_management_review": {"nonconformities_raised": []}}


def work_organisation(rel):
    """Complete what is ready in the organisation's management system and its linked processes (reviews,
    audits, nonconformities), at the relationship driver's time."""
    from app.management.services import management_system
    ms = management_system(rel.session)
    if ms is None:
        return
    organisation = Driver(rel.session, rel.svc, rel.users, ms.id, rel.now)
    organisation.drive(ORGANISATION_ANSWERS)
    for child in organisation.linked(status="running"):
        linked = organisation.linked_driver(child.id)
        linked.drive(ORGANISATION_ANSWERS)
