"""What the task and approval pages show, gathered in one place so the views stay 'parse, call, render'."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import WorkflowEngine, WorkflowError

from ..access import services as access
from ..auth.models import User
from ..db import utcnow
from ..evidence import services as evidence
from ..evidence.models import EvidenceFile
from ..processes.choices import has_choices, with_choices
from ..processes.forms import form_schema
from ..processes.models import HumanTask, ProcessInstance
from ..processes.store import bound
from ..stages import StageTag, stage_of
from . import partner_decisions
from .binding import Field, build_fields, declared, evidence_values, titles
from .instructions import render_instructions
from .models import TaskComment, TaskDraft
from .queries import (
    candidates,
    comments_of,
    draft_of,
    earlier_decisions,
    refusal,
    relationship_answers,
    root_instance,
    stage_work,
    users_by_id,
)
from .services import may_manage as _may_manage

ANSWERS_SHOWN = 30


@dataclass
class TaskForm:
    schema: dict | None
    ui: dict | None


@dataclass
class Answer:
    """A completed task's submitted data, as the form titles and option labels say it."""

    row: HumanTask
    title: str
    fields: list[Field]
    completed_by: str | None


@dataclass
class TaskPage:
    row: HumanTask
    instance: ProcessInstance
    relationship: ProcessInstance
    stage: StageTag
    form: TaskForm
    fields: list[Field]
    errors: dict
    instructions: object | None
    documentation: str | None
    refusal: str | None  # why this person may not complete it now (None: they may)
    may_claim: bool
    may_manage: bool
    assignee: User | None
    draft: TaskDraft | None
    comments: list[tuple[TaskComment, str]]
    files: dict[str, EvidenceFile]  # evidence cited by the form values, by id
    task_files: list[EvidenceFile]
    candidates: list[User] = field(default_factory=list)
    stage_work: list[Answer] = field(default_factory=list)
    decisions: list[Answer] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    notice: str | None = None  # e.g. someone else changed the task meanwhile
    sent_back: list[Answer] = field(default_factory=list)  # the SER decisions that reopened this task, each once
    partners: partner_decisions.Standing | None = None  # several partners decide it: who has, who is awaited

    @property
    def is_approval(self) -> bool:
        return self.row.approval_gate

    @property
    def field_titles(self) -> dict[str, str]:
        return titles(self.fields)

    @property
    def editable(self) -> bool:
        return self.row.state == "ready" and self.refusal is None


def task_form(session: Session, row: HumanTask, version_id: int | None = None) -> TaskForm:
    if version_id is None:
        version_id = session.scalar(select(ProcessInstance.version_id).where(ProcessInstance.id == row.instance_id))
    return TaskForm(form_schema(session, version_id, row.form_key), form_schema(session, version_id, row.ui_form_key))


def live_form(session: Session, engine: WorkflowEngine, row: HumanTask) -> TaskForm:
    """The form of a ready task with the choices its data gives (see app.processes.choices)."""
    form = task_form(session, row)
    if row.state != "ready" or not has_choices(form.ui):
        return form
    try:
        data = bound(engine, session).get_task(row.instance_id, row.task_id).data
    except WorkflowError:
        return form
    return TaskForm(with_choices(form.schema, form.ui, data), form.ui)


def answer(session: Session, row: HumanTask, people: dict[int, User], viewer: User | None = None,
           agreed: dict[int | None, bool] | None = None) -> Answer:
    form = task_form(session, row)
    submitted = row.submitted or {}
    fields = build_fields(form.schema, form.ui,
                          _as_seen(session, row, submitted, viewer, agreed) if viewer else submitted)
    who = people.get(row.completed_by_id)
    return Answer(row, (form.schema or {}).get("title") or row.name, fields, who.display_name if who else None)


def _as_seen(session: Session, row: HumanTask, data: dict, user: User,
             agreed: dict[int | None, bool] | None = None) -> dict:
    """A task's data as `user` reads it (access.redact; knowledge under an NDA in full once the agreement covers it).
    `agreed` remembers per relationship whether its agreement covers confidentiality, for a list of answers."""
    if access.sees_everything(user):
        return data
    agreed = {} if agreed is None else agreed
    relationship_id = access.root_id(session, row.instance_id)
    if relationship_id not in agreed:
        agreed[relationship_id] = relationship_id is not None and access.confidentiality_agreed(session,
                                                                                                relationship_id)
    return access.redact(data, user, nda=agreed[relationship_id])


def answers(session: Session, rows: list[HumanTask], viewer: User | None = None) -> list[Answer]:
    """The answers as `viewer` may read them: a partner only joint tasks' answers, withheld knowledge removed."""
    if viewer is not None and not access.sees_everything(viewer):
        rows = [r for r in rows if access.joint_process(r.process_id)]
    people = users_by_id(session, [r.completed_by_id for r in rows])
    agreed: dict[int | None, bool] = {}  # asked once per relationship, however many answers
    return [answer(session, r, people, viewer, agreed) for r in rows]


@dataclass
class TaskView:
    """What the task page and the API both show of one task, built once for both."""

    form: TaskForm
    engine_task: object | None  # workflows.UserTask while the task is ready
    draft: TaskDraft | None
    values: dict  # the current values as `user` may read them: their draft, else the process's, else submitted
    refusal: str | None  # why `user` may not complete it now (None: they may)


LiveInputs = Callable[[Session, WorkflowEngine, dict, datetime], dict]


def task_view(session: Session, engine: WorkflowEngine, user: User, row: HumanTask, *,
              version_id: int | None = None, strict: bool = True, inputs: LiveInputs | None = None,
              now: datetime | None = None) -> TaskView:
    """One task as `user` sees it. With `strict=False` a task the engine cannot load still shows from its row
    (without instructions) instead of raising. `inputs` gives the live data a task's diagram asks for (its
    `liveInputs` property, e.g. the management review's set inputs): it fills the fields the process left empty."""
    form = task_form(session, row, version_id)
    engine_task = None
    if row.state == "ready":
        try:
            engine_task = bound(engine, session).get_task(row.instance_id, row.task_id)
        except WorkflowError:
            if strict:
                raise
    if engine_task is not None:
        form = TaskForm(with_choices(form.schema, form.ui, engine_task.data), form.ui)
    draft = draft_of(session, user, row.id)
    if row.state != "ready":
        values = row.submitted or {}
    elif draft is not None:
        values = draft.data
    else:
        values = declared(form.schema, engine_task.data if engine_task else {})
        if inputs is not None and (row.properties or {}).get("liveInputs"):
            fields = (form.schema or {}).get("properties") or {}
            live = inputs(session, engine, row.properties, now or utcnow())
            values = {**values, **{k: v for k, v in live.items() if k in fields and values.get(k) in (None, "", [])}}
    values = _as_seen(session, row, values, user)  # a partner never sees withheld knowledge, even prefilled
    return TaskView(form, engine_task, draft, values, refusal(session, user, row))


def task_page(session: Session, engine: WorkflowEngine, user: User, row: HumanTask, *, values: dict | None = None,
              errors: dict | None = None, now: datetime, inputs: LiveInputs | None = None) -> TaskPage:
    """Everything the task page shows. `values`/`errors` are what was just posted, to show them again."""
    instance = session.get(ProcessInstance, row.instance_id)
    relationship = root_instance(session, row.instance_id)
    view = task_view(session, engine, user, row, version_id=instance.version_id, strict=False, inputs=inputs, now=now)
    form, engine_task, draft, reason = view.form, view.engine_task, view.draft, view.refusal
    if values is None:
        values = view.values
    manager = row.state == "ready" and _may_manage(user, row)
    page = TaskPage(
        row=row, instance=instance, relationship=relationship, stage=stage_of(row.process_id), form=form,
        fields=build_fields(form.schema, form.ui, values, errors or {}), errors=errors or {},
        instructions=render_instructions(engine_task.instructions if engine_task else None,
                                         engine_task.data if engine_task else None),
        documentation=engine_task.documentation if engine_task else None, refusal=reason,
        may_claim=row.state == "ready" and row.assignee_id is None and reason is None,
        may_manage=manager, assignee=session.get(User, row.assignee_id) if row.assignee_id else None,
        draft=draft, comments=comments_of(session, row.id),
        files=evidence.by_ids(session, evidence_values(form.schema, values)),
        task_files=evidence.for_task(session, row.id),
        candidates=candidates(session, row) if manager else [],
    )
    page.partners = partner_decisions.standing(session, row)
    order = list(page.field_titles)
    page.errors = dict(sorted(page.errors.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else -1))
    if row.approval_gate:
        page.stage_work = answers(session, stage_work(session, row), user)
        page.decisions = answers(session, earlier_decisions(session, row), user)
    elif row.state == "ready":
        page.sent_back = _sent_back(session, row)
    shown = {a.row.id for a in page.stage_work}
    earlier = [r for r in relationship_answers(session, relationship.id, exclude=row.id) if r.id not in shown]
    page.answers = answers(session, earlier[:ANSWERS_SHOWN], user)
    cited = [v for a in page.stage_work + page.decisions + page.answers
             for v in evidence_values(task_form(session, a.row).schema, a.row.submitted or {})]
    page.files.update(evidence.by_ids(session, cited))
    return page


def _sent_back(session: Session, row: HumanTask) -> list[Answer]:
    """The gate decisions that sent this task's stage back for rework, each once: of the stage's latest round
    before this task was ready again (one gate, or each SER's at a joint gate), the reworks that reopened it (a gate
    that lists the tasks to reopen names them in `reopen_tasks`, the partner's in `partner_reopen_tasks`). The
    person redoing it reads why, and from whom; the diagrams' instructions do not repeat it."""
    round_, gates = [], set()
    for decision in reversed(earlier_decisions(session, row)):
        if decision.completed_at and row.created_at and decision.completed_at > row.created_at:
            continue
        if decision.bpmn_id in gates:  # an earlier round of a gate already seen
            break
        gates.add(decision.bpmn_id)
        round_.append(decision)
    reopened = []
    for decision in reversed(round_):  # in the order they were taken
        submitted = decision.submitted or {}
        if submitted.get("decision", submitted.get("partner_decision")) != "rework":
            continue
        field = next((f for f in ("reopen_tasks", "partner_reopen_tasks") if f in submitted), None)
        if field is not None and row.bpmn_id not in (submitted[field] or []):
            continue
        reopened.append(decision)
    return answers(session, reopened) if reopened else []
