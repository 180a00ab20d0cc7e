"""Every table, imported in one place so Alembic and tests see the whole schema."""

from .audit.models import AuditEvent
from .auth.models import (
    AccountLink,
    Organisation,
    RecoveryCode,
    RelationshipPartner,
    RelationshipProfile,
    SecondFactorRole,
    TotpCredential,
    User,
    UserRole,
    UserSession,
)
from .calendar.models import CalendarFeed
from .compliance.models import ExportJob, RenderedExport
from .db import Base
from .evidence.models import EvidenceFile
from .inbox.models import PartnerDecision, TaskComment, TaskDraft
from .management.models import RelationshipFoundation
from .modeler.models import Draft, Upload
from .notifications.models import Notification, NotificationPreference, OutboxEmail
from .processes.models import (
    HumanTask,
    InstanceMove,
    ProcessInstance,
    ProcessStart,
    ProcessVersion,
    Timer,
    TokenMove,
    VersionFile,
)
from .registers.models import RegisterChange, RegisterEntry, RegisterFeed
from .sso.models import SsoIdentity, SsoSession
from .tokens.models import ApiToken
from .webhooks.models import WebhookDelivery, WebhookSubscription

metadata = Base.metadata

__all__ = ["AccountLink", "ApiToken", "AuditEvent", "CalendarFeed", "Draft", "EvidenceFile", "ExportJob", "HumanTask", "InstanceMove", "Notification",
           "NotificationPreference", "Organisation", "OutboxEmail", "PartnerDecision", "ProcessInstance", "ProcessStart", "ProcessVersion",
           "RecoveryCode", "RegisterChange", "RegisterEntry", "RegisterFeed", "RelationshipFoundation",
           "RelationshipPartner", "RelationshipProfile", "RenderedExport", "SecondFactorRole", "SsoIdentity", "SsoSession", "TaskComment", "TaskDraft", "Timer", "TokenMove", "TotpCredential",
           "Upload", "User", "UserRole", "UserSession", "VersionFile", "WebhookDelivery", "WebhookSubscription",
           "metadata"]
