"""Partner visibility, decided here once so pages, the API, jobs and exports all obey the same rule.

- Users of our own organisation see every relationship (their roles decide what they may *do*).
- Users of a partner organisation see only the relationships their organisation is a partner of (an alliance
  has several partners: `relationship_partners`), and of those only the joint parts: stages 5-8, issues, periodic reviews and exit reviews (stages 1-4 are our
  internal preparation: the corporate plan, our assessment of them, our negotiation strategy).
- Within joint data, knowledge the knowledge map withholds is removed, and knowledge shared only on request
  shows its name and owner but not its details. Knowledge shared under an NDA shows in full once the
  relationship's agreement covers confidentiality (`confidentiality_agreed`), and like knowledge on request
  until then. Knowledge the map shares with named partner organisations only (`shared_with`) is removed for
  the users of every other partner: one partner learns nothing of what is shared with another.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth.models import Organisation, RelationshipPartner, RelationshipProfile, User, UserRole
from ..errors import Forbidden, NotFound
from ..processes.models import HumanTask, ProcessInstance
from ..stages import stage_of_process

INTERNAL_STAGES = frozenset({1, 2, 3, 4})
WITHHELD = frozenset({"withhold", "not_shared"})
SHARING = {"share": "share", "shared": "share", "share_under_nda": "share_under_nda",
           "shared_with_conditions": "share_on_request", "share_on_request": "share_on_request",
           "withhold": "withhold", "not_shared": "withhold"}
ON_REQUEST_KEEPS = ("asset", "item", "title", "owner", "owner_organisation", "sharing")


def sees_everything(user: User) -> bool:
    """Our own organisation's users (assessors included) read every relationship."""
    return not user.is_partner


def joint_process(process_id: str | None) -> bool:
    """Whether tasks of this process are joint work a partner may see (not our stages 1-4)."""
    return stage_of_process(process_id) not in INTERNAL_STAGES


def root_id(session: Session, instance_id: int) -> int | None:
    """The relationship (top-level instance) an instance belongs to."""
    return session.scalar(select(ProcessInstance.root_id).where(ProcessInstance.id == instance_id))


def partner_organisation(session: Session, relationship_id: int) -> int | None:
    """The lead partner organisation (the first named); `partners` for all of them."""
    return session.scalar(select(RelationshipProfile.partner_organisation_id)
                          .where(RelationshipProfile.instance_id == relationship_id))


def partners(session: Session, relationship_id: int) -> list[tuple[int, str]]:
    """(organisation id, name) of every partner organisation of a relationship, the lead partner first: the
    organisation's own name, as its users and the knowledge map's `shared_with` name it."""
    return [tuple(r) for r in session.execute(
        select(RelationshipPartner.organisation_id, Organisation.name)
        .join(Organisation, Organisation.id == RelationshipPartner.organisation_id)
        .where(RelationshipPartner.instance_id == relationship_id)
        .order_by(RelationshipPartner.position, RelationshipPartner.id))]


def partner_names(session: Session, relationship_ids: list[int]) -> dict[int, list[str]]:
    """{relationship id: the names its partners were given, the lead partner first} (lists and plans)."""
    if not relationship_ids:
        return {}
    return _names_by_relationship(session, select(RelationshipPartner.instance_id, RelationshipPartner.partner_name)
                                  .where(RelationshipPartner.instance_id.in_(relationship_ids)))


def _names_by_relationship(session: Session, query) -> dict[int, list[str]]:
    """{relationship id: names} from a query of (relationship id, partner name), in the partners' order."""
    found: dict[int, list[str]] = {}
    for rel, name in session.execute(query.order_by(RelationshipPartner.instance_id, RelationshipPartner.position,
                                                    RelationshipPartner.id)):
        found.setdefault(rel, []).append(name)
    return found


def relationships_of(organisation_id: int):
    """SQL: the ids of the relationships an organisation is a partner of."""
    return select(RelationshipPartner.instance_id).where(RelationshipPartner.organisation_id == organisation_id)


def is_partner_of(session: Session, organisation_id: int, relationship_id: int) -> bool:
    return session.scalar(select(RelationshipPartner.id).where(
        RelationshipPartner.instance_id == relationship_id,
        RelationshipPartner.organisation_id == organisation_id).limit(1)) is not None


def visible_relationship_ids(session: Session, user: User) -> list[int] | None:
    """The relationships a partner user may see; None means all of them (our own organisation)."""
    if sees_everything(user):
        return None
    return list(session.scalars(relationships_of(user.organisation_id)))


def may_see(session: Session, user: User, relationship_id: int) -> bool:
    return sees_everything(user) or is_partner_of(session, user.organisation_id, relationship_id)


def relationship_or_404(session: Session, relationship_id: int, viewer: User | None = None, *,
                        process_id: str | None = None) -> ProcessInstance:
    """The relationship (a top-level instance; of `process_id` when given) that `viewer` may see, else NotFound:
    the one way every page, API call and service finds a relationship (`viewer=None`: the system itself)."""
    root = session.get(ProcessInstance, relationship_id)
    if root is None or root.parent_id is not None or (process_id is not None and root.process_id != process_id):
        raise NotFound(f"relationship {relationship_id} does not exist")
    if viewer is not None:
        require_relationship(session, viewer, relationship_id)
    return root


def partners_without_ser(session: Session, relationship_ids: list[int] | None = None) -> dict[int, list[str]]:
    """{relationship id: partner names} for running relationships with a partner organisation that has no active
    SER: their joint gates (from stage 5) would wait for nobody, so they are flagged from the start."""
    has_ser = select(UserRole.user_id).join(User, User.id == UserRole.user_id).where(
        UserRole.role == "ser", User.is_active.is_(True),
        User.organisation_id == RelationshipPartner.organisation_id).exists()
    query = (select(RelationshipPartner.instance_id, RelationshipPartner.partner_name)
             .join(ProcessInstance, ProcessInstance.id == RelationshipPartner.instance_id)
             .where(ProcessInstance.status == "running", ~has_ser))
    if relationship_ids is not None:
        query = query.where(RelationshipPartner.instance_id.in_(relationship_ids))
    return _names_by_relationship(session, query)


def require_relationship(session: Session, user: User, relationship_id: int) -> None:
    """Raise NotFound when the user may not see the relationship: a partner learns nothing of the others."""
    if not may_see(session, user, relationship_id):
        raise NotFound(f"relationship {relationship_id} does not exist")


def may_see_instance(session: Session, user: User, instance_id: int, process_id: str | None = None) -> bool:
    """Whether the user may see an instance (a relationship or a process linked to one) and its process's
    tasks: partners only their relationships' joint processes."""
    if sees_everything(user):
        return True
    root = root_id(session, instance_id)
    if root is None or not is_partner_of(session, user.organisation_id, root):
        return False
    return process_id is None or joint_process(process_id)


def require_own_organisation(user: User, what: str) -> None:
    """For our internal records (the compliance matrix, the dashboard, corporate plans)."""
    if not sees_everything(user):
        raise Forbidden(f"{what} is not shared with partner organisations")


def sharing_of(item: dict) -> str | None:
    """The normalised sharing rule of a knowledge item (share / share_under_nda / share_on_request / withhold), if
    it has one."""
    value = item.get("sharing") if isinstance(item, dict) else None
    return SHARING.get(value) if isinstance(value, str) else None


def shared_with(item) -> list[str]:
    """The partner organisations a knowledge item names as the ones it is shared with (`shared_with`: a list, or
    the register's text with names separated by commas); empty: every partner."""
    value = item.get("shared_with") if isinstance(item, dict) else None
    if isinstance(value, str):
        value = value.split(",")
    return [v.strip() for v in value if isinstance(v, str) and v.strip()] if isinstance(value, list) else []


def reaches(item, user: User) -> bool:
    """Whether a knowledge item reaches `user`: not withheld, and shared with every partner or with theirs by
    name. Our own users see everything."""
    if sees_everything(user):
        return True
    if sharing_of(item) == "withhold":
        return False
    named = shared_with(item) if sharing_of(item) is not None else []
    return not named or user.organisation.name.casefold() in {n.casefold() for n in named}


def redact(data, user: User, *, nda: bool = False):
    """Data as `user` may see it: for partners, withheld knowledge removed at any depth, and so is knowledge
    shared only with other partner organisations (`shared_with`); knowledge shared on request is reduced to its
    name and owner, as is knowledge shared under an NDA unless `nda` (the relationship's agreement covers
    confidentiality: `confidentiality_agreed`). Our own users get `data` unchanged."""
    if sees_everything(user):
        return data
    return _redact(data, frozenset({"share_on_request"} if nda else {"share_on_request", "share_under_nda"}), user)


def _redact(value, reduced: frozenset[str], user: User):
    if isinstance(value, dict):
        if sharing_of(value) in reduced:
            return {k: v for k, v in value.items() if k in ON_REQUEST_KEEPS}
        return {k: _redact(v, reduced, user) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, reduced, user) for v in value if reaches(v, user)]
    return value


def confidentiality_agreed(session: Session, relationship_id: int) -> bool:
    """Whether the relationship's latest agreement covers confidentiality: the newest completed task that answered
    the collaborative-contracting checklist's `confidentiality` (stage 4's selection, or a later revision). Until
    then knowledge shared under an NDA is not shown to the partner in full."""
    rows = session.scalars(select(HumanTask.submitted).join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
                           .where(ProcessInstance.root_id == relationship_id, HumanTask.state == "completed")
                           .order_by(HumanTask.completed_at.desc(), HumanTask.id.desc()))
    for submitted in rows:
        checklist = submitted.get("contracting_checklist") if isinstance(submitted, dict) else None
        answer = checklist.get("confidentiality") if isinstance(checklist, dict) else None
        if isinstance(answer, dict):
            return answer.get("covered") is True
    return False


def member_ids(session: Session, relationship_id: int) -> list[int]:
    """The relationship and every instance linked below it (issues, reviews, their levels)."""
    return list(session.scalars(select(ProcessInstance.id).where(ProcessInstance.root_id == relationship_id)
                                .order_by(ProcessInstance.id)))
