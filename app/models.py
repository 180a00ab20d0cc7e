"""Every table, imported in one place so Alembic and tests see the whole schema."""

from .audit.models import AuditEvent
from .auth.models import Organisation, RelationshipProfile, User, UserRole, UserSession
from .db import Base
from .evidence.models import EvidenceFile
from .inbox.models import TaskComment, TaskDraft
from .modeler.models import Draft, Upload
from .notifications.models import Notification, OutboxEmail
from .processes.models import HumanTask, ProcessInstance, ProcessVersion, Timer, VersionFile
from .registers.models import RegisterChange, RegisterEntry, RegisterFeed
from .tokens.models import ApiToken

metadata = Base.metadata

__all__ = ["ApiToken", "AuditEvent", "EvidenceFile", "HumanTask", "Notification", "Organisation", "OutboxEmail",
           "ProcessInstance", "RegisterChange", "RegisterEntry", "RegisterFeed", "ProcessVersion", "Draft", "Upload", "RelationshipProfile", "TaskComment", "TaskDraft", "Timer", "User",
           "UserRole", "UserSession", "VersionFile", "metadata"]
