"""The app's side of the service-task connectors (`workflows.connectors`): each call an engine action's service
tasks made is performed in that action's transaction (`run_action`), with one audit event per call; a call that
cannot be performed (an unknown role, register or user) fails located at its service task, and nothing of the
action is saved.

The engine raises a nonconformity itself. Sending a notification is done here; a register entry by the registers
domain, which sits above this one and adds its performer when the app is made (`create_app`), like any other
domain's connector would. Each performer may also check the literal values a diagram gives at deploy time
(`literal_problems`, run by `checks.deploy_checks`, so validate, deploy and inspect say the same).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import CONNECTORS, Result, ServiceCall

from ..auth.models import ROLES
from ..notifications.services import (
    MailSettings,
    partner_organisation_of,
    recipients,
    send_message,
    users_named,
)
from .lanes import DEFAULT_LANE_ROLES, LaneRole, lane_role, resolved
from .models import ProcessInstance, ProcessVersion

# perform(session, call, instance_id=, now=, actor=, mail=) -> the audit event's payload (raise call.failed(...))
Perform = Callable[..., dict]
# check(literal parameter values, lanes: the version's lane mapping) -> problems, for the values a diagram writes as
# literals
CheckLiterals = Callable[[dict, dict[str, LaneRole]], list[str]]


@dataclass(frozen=True)
class Performer:
    action: str  # the audit action, e.g. connector.notification_sent
    perform: Perform
    check_literals: CheckLiterals | None = None


_performers: dict[str, Performer] = {}


def add(connector: str, performer: Performer) -> None:
    """Let the app perform `connector` (one of workflows.CONNECTORS). Adding it again replaces it."""
    if connector not in CONNECTORS:
        raise ValueError(f"there is no connector {connector!r}")
    _performers[connector] = performer


def perform(session: Session, result: Result, *, now: datetime, actor, mail: MailSettings | None) -> list[dict]:
    """Perform every connector call of the action (its linked instances' too); returns their audit rows. Raises
    ScriptFailed located at the service task of a call that cannot be performed."""
    audit = []
    for part in result.all():
        for call in part.service_calls:
            performer = _performers.get(call.connector)
            if performer is None:
                raise call.failed("this installation does not perform it")
            payload = performer.perform(session, call, instance_id=part.instance_id, now=now, actor=actor, mail=mail)
            audit.append(dict(action=performer.action, actor=actor, instance_id=part.instance_id, task_id=call.task_id,
                              at=now, payload={"connector": call.connector, "bpmn_id": call.bpmn_id,
                                               "name": call.task_name, **payload}))
    return audit


def literal_problems(connector: str, expressions: dict[str, str], lanes: dict[str, LaneRole] | None = None
                     ) -> list[str]:
    """What the app knows is wrong with the literal values among a service task's parameter expressions (`lanes`:
    the version's lane mapping, `lanes.resolved`)."""
    performer = _performers.get(connector)
    if performer is None or performer.check_literals is None:
        return []
    literals = {}
    for name, expression in expressions.items():
        try:
            literals[name] = ast.literal_eval((expression or "").strip())
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue  # an expression: only the data at run time will tell
    return performer.check_literals(literals, lanes or DEFAULT_LANE_ROLES)


# ---- send_notification -----------------------------------------------------------------------------------------
def _lane_of(role: str, lanes: dict[str, LaneRole]) -> LaneRole | None:
    """A lane name (SER, Partner SER, a lane the version maps, ...) or a role (ser, top_management, ...)."""
    return lane_role(role, lanes) or (LaneRole(role) if role in ROLES else None)


def _unknown_role(role: str, lanes: dict[str, LaneRole]) -> str:
    return f"there is no role or lane {role!r} (roles: {', '.join(ROLES)}; lanes: {', '.join(lanes)})"


def _version_lanes(session: Session, instance_id: int) -> dict[str, LaneRole]:
    """The lane mapping of the version the instance runs on."""
    return resolved(session.scalar(select(ProcessVersion.lane_roles).join(
        ProcessInstance, ProcessInstance.version_id == ProcessVersion.id).where(ProcessInstance.id == instance_id)))


def send_notification(session: Session, call: ServiceCall, *, instance_id: int, now: datetime, actor,
                      mail: MailSettings | None) -> dict:
    """A notification (and, with mail on, an outbox e-mail) for everyone with the role on the lane's side and for
    each named user; partner users only of this relationship's partner organisation."""
    people = {}
    partner = partner_organisation_of(session, instance_id)
    role = call.params.get("to_role")
    if role:
        lanes = _version_lanes(session, instance_id)
        lane = _lane_of(role, lanes)
        if lane is None:
            raise call.failed(_unknown_role(role, lanes))
        people.update((r.id, r) for r in recipients(session, lane.role, lane.partner_side, None, partner,
                                                    lane.joint))
    names = call.params.get("to_users") or []
    if names:
        found = users_named(session, names)
        unknown = [name for name in names if name not in found]
        if unknown:
            raise call.failed(f"there is no active user {', '.join(map(repr, unknown))}")
        for name, (person, organisation_id, is_partner) in found.items():
            if is_partner and organisation_id != partner:
                raise call.failed(f"{name!r} is a user of an organisation this relationship does not include")
            people[person.id] = person
    notified, emails = send_message(session, list(people.values()), subject=call.params["subject"],
                                    body=call.params.get("body") or "", instance_id=instance_id, now=now, mail=mail)
    return {"subject": call.params["subject"], "to_role": role, "to_users": names, "recipients": sorted(people),
            "notifications": notified, "emails": emails}


def _notification_literals(literals: dict, lanes: dict[str, LaneRole]) -> list[str]:
    role = literals.get("to_role")
    if isinstance(role, str) and role.strip() and _lane_of(role.strip(), lanes) is None:
        return [_unknown_role(role.strip(), lanes)]
    return []


add("send_notification", Performer("connector.notification_sent", send_notification, _notification_literals))
