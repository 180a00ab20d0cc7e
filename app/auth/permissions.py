"""Named permissions: every check says what it needs, and which roles hold it is data in one table.

A check names a permission (`may(user, Permission.DEPLOY_PROCESSES)`), never a set of roles, so "who may deploy"
is answered here and nowhere else. Lanes decide which task a worker may complete (`processes.services.lane_refusal`);
these permissions decide what a person may do at all. The authorization matrix test is generated from this table.
"""

from __future__ import annotations

from enum import StrEnum

from ..errors import Forbidden
from .models import ROLES, User


class Permission(StrEnum):
    WORK_TASKS = "work tasks"                      # complete tasks of their lane, claim, drafts, comments
    START_RELATIONSHIPS = "start relationships"    # and start other processes a person may start
    RAISE_ISSUES = "raise issues and exit triggers"
    EDIT_REGISTERS = "edit registers"
    UPLOAD_EVIDENCE = "upload evidence"
    DISCUSS_TASKS = "discuss tasks"
    MANAGE_LANE_TASKS = "manage the tasks of their side"   # reassign, set due dates, release (SERs)
    MANAGE_ANY_TASK = "manage any task"                   # the same for every task (administrators)
    READ_EVERY_TASK = "read every task"
    READ_PROCESSES = "read process versions"
    DEPLOY_PROCESSES = "deploy processes"
    ADMINISTER_INSTANCES = "administer instances"         # cancel, migrate running instances
    ADMINISTER_USERS = "administer organisations and people"
    ADMINISTER_WEBHOOKS = "administer webhooks"           # subscribe URLs to events, read and resend deliveries
    READ_MANAGEMENT_SYSTEM = "read the management system"     # our organisation's home: clauses, reviews, NCs
    SET_UP_MANAGEMENT_SYSTEM = "set up the management system"  # start the organisation's management system


P = Permission
_WORKER = frozenset({P.WORK_TASKS, P.START_RELATIONSHIPS, P.RAISE_ISSUES, P.EDIT_REGISTERS, P.UPLOAD_EVIDENCE,
                     P.DISCUSS_TASKS, P.READ_MANAGEMENT_SYSTEM})

ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "staff": _WORKER,
    "jmt": _WORKER,
    "ser": _WORKER | {P.MANAGE_LANE_TASKS},
    "process_owner": frozenset({P.READ_PROCESSES, P.DEPLOY_PROCESSES, P.DISCUSS_TASKS}),
    "assessor": frozenset({P.READ_EVERY_TASK, P.READ_PROCESSES, P.READ_MANAGEMENT_SYSTEM}),
    # appoints the SER, approves policy and resources, holds the management review: in their own lane
    "top_management": frozenset({P.WORK_TASKS, P.DISCUSS_TASKS, P.UPLOAD_EVIDENCE, P.READ_MANAGEMENT_SYSTEM,
                                 P.SET_UP_MANAGEMENT_SYSTEM}),
    "admin": frozenset({P.START_RELATIONSHIPS, P.RAISE_ISSUES, P.EDIT_REGISTERS, P.UPLOAD_EVIDENCE,
                        P.DISCUSS_TASKS, P.MANAGE_LANE_TASKS, P.MANAGE_ANY_TASK, P.READ_EVERY_TASK,
                        P.READ_PROCESSES, P.DEPLOY_PROCESSES, P.ADMINISTER_INSTANCES, P.ADMINISTER_USERS, P.ADMINISTER_WEBHOOKS,
                        P.READ_MANAGEMENT_SYSTEM, P.SET_UP_MANAGEMENT_SYSTEM}),
}
assert set(ROLE_PERMISSIONS) == set(ROLES), "every role has a row"


def permissions_of(roles) -> frozenset[Permission]:
    return frozenset().union(*(ROLE_PERMISSIONS.get(role, frozenset()) for role in roles))


def may(user: User, permission: Permission) -> bool:
    return permission in permissions_of(user.roles)


def require(user: User | None, permission: Permission, message: str) -> None:
    """Raise Forbidden(message) unless `user` holds `permission`; `None` is the system itself (CLI, timers)."""
    if user is not None and not may(user, permission):
        raise Forbidden(message)


def roles_with(permission: Permission) -> frozenset[str]:
    """The roles holding `permission` (for SQL filters and for the authorization matrix)."""
    return frozenset(role for role, held in ROLE_PERMISSIONS.items() if permission in held)


def read_only(user: User) -> bool:
    """Reads everything and changes nothing (assessors): told so, rather than refused lane by lane."""
    return may(user, P.READ_EVERY_TASK) and not may(user, P.WORK_TASKS) and not may(user, P.MANAGE_ANY_TASK)
