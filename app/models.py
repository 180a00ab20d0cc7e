"""Every table, imported in one place so Alembic and tests see the whole schema."""

from .audit.models import AuditEvent
from .auth.models import Organisation, User, UserRole
from .db import Base
from .notifications.models import Notification, OutboxEmail
from .processes.models import HumanTask, ProcessInstance, ProcessVersion, Timer, VersionFile

metadata = Base.metadata

__all__ = ["AuditEvent", "HumanTask", "Notification", "OutboxEmail", "Organisation", "ProcessInstance", "ProcessVersion", "Timer", "User",
           "UserRole", "VersionFile", "metadata"]
