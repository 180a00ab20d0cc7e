"""What each register holds: its columns (as a JSON Schema, so the same form code draws and checks them),
the column that names an entry, and which form fields of the lifecycle's tasks feed it.

Feeds match by field name, so a process owner's new diagram that asks for `risks` feeds the risk register
without code. Knowledge items keep the sharing rule of the task they came from, normalised to
share / share_under_nda / share_on_request / withhold.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LEVELS = {"type": "integer", "minimum": 1, "maximum": 5}
STATUS = {"type": "string", "enum": ["open", "in_progress", "done", "cancelled"]}


@dataclass(frozen=True)
class Register:
    name: str  # the URL and storage name
    title: str
    key: str  # the column naming an entry
    schema: dict
    feeds: tuple[str, ...]  # form fields (arrays of objects) that feed this register
    description: str = ""
    editable: bool = True
    order: tuple[str, ...] = field(default=())
    scope: str = "both"  # organisation: the management system's only; relationship: a relationship's only
    key_with: tuple[str, ...] = ()  # further columns naming an entry with `key` (one person, one competence)

    def name_of(self, data: dict) -> str:
        """What names an entry, as people read it: the key column, with `key_with`'s values when it has them."""
        parts = [data.get(column) for column in (self.key, *self.key_with)]
        return " · ".join(str(part).replace("_", " ") for part in parts if part not in (None, ""))

    @property
    def columns(self) -> list[tuple[str, str]]:
        props = self.schema["properties"]
        names = self.order or tuple(props)
        return [(n, props[n].get("title", n)) for n in names]


def _text(title, max_length=300, **extra):
    return {"type": "string", "title": title, "maxLength": max_length, **extra}


def _object(required, **properties):
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


RISK = Register(
    "risks", "Risk register", "risk", _object(
        ("risk", "owner", "likelihood", "impact"),
        risk=_text("Risk", minLength=1), category={"type": "string", "title": "Category", "enum": [
            "general", "relationship", "internal", "sustainability"]},
        owner=_text("Owner", minLength=1),
        owner_organisation={"type": "string", "title": "Owner's organisation", "enum": ["ours", "partner", "joint"]},
        likelihood={**LEVELS, "title": "Likelihood (1-5)"}, impact={**LEVELS, "title": "Impact (1-5)"},
        mitigation=_text("Mitigation", 2000), review_date={"type": "string", "format": "date", "title": "Review date"}),
    ("risks",), "Every risk with its owner, rating, mitigation and next review; overdue reviews are flagged.")
VALUE = Register(
    "value", "Value register", "idea", _object(
        ("idea", "status"),
        idea=_text("Idea", minLength=1), proposed_by=_text("Proposed by"),
        cost={"type": "number", "title": "Cost", "minimum": 0}, benefit={"type": "number", "title": "Benefit",
                                                                          "minimum": 0},
        status={"type": "string", "title": "Status", "enum": ["proposed", "approved", "in_progress", "realised",
                                                              "rejected"]},
        owner=_text("Owner"), kind={"type": "string", "title": "Kind of value", "enum": [
            "money", "time", "quality", "capability", "reputation", "other"]},
        measure=_text("How the benefit is measured", 2000),
        target_date={"type": "string", "format": "date", "title": "Target date"},
        realised_value={"type": "number", "title": "Realised value", "minimum": 0},
        realised_measure=_text("What was realised", 2000), verified_by=_text("Verified by"),
        verified_on={"type": "string", "format": "date", "title": "Verified on"},
        verification_evidence=_text("Evidence", 2000)),
    ("value_register",), "Ideas for joint value, money or not, with their cost, benefit, owner and target date, "
    "and the realised value someone verified.")
KNOWLEDGE = Register(
    "knowledge", "Knowledge map", "asset", _object(
        ("asset", "owner", "sharing"),
        asset=_text("Knowledge asset", minLength=1), owner=_text("Owner", minLength=1),
        classification={"type": "string", "title": "Classification", "enum": [
            "public", "internal", "confidential", "restricted"]},
        sharing={"type": "string", "title": "Sharing with partners", "enum": [
            "share", "share_under_nda", "share_on_request", "withhold"]},
        shared_with=_text("Shared with (partner organisations, separated by commas; empty: every partner)", 600),
        details=_text("Details", 4000), conditions=_text("Conditions", 2000)),
    ("knowledge_map", "joint_knowledge_plan"),
    "What knowledge exists, who owns it, and what the partner may see: shared items in full, items shared under "
    "an NDA in full once the agreement covers confidentiality (by name only until then), items shared on request "
    "by name only, withheld items not at all. An item shared with named partner organisations only reaches no "
    "other partner.")
EXIT_TRIGGERS = Register(
    "exit-triggers", "Exit triggers", "trigger", _object(
        ("trigger",),
        trigger=_text("Trigger", minLength=1), category={"type": "string", "title": "Category", "enum": [
            "insolvency", "change_of_control", "under_performance", "breach_of_principles", "objectives_achieved",
            "other"]},
        indicator=_text("How we will know", 2000), response=_text("What then happens", 2000),
        raised={"type": "string", "title": "Raised", "enum": ["person", "escalation", "performance",
                                                              "exit_strategy_review"]},
        our_decision={"type": "string", "title": "Our SER's decision", "enum": ["dismiss", "invoke_exit"]},
        partner_decision={"type": "string", "title": "Partner SERs' decision", "enum": [
            "dismiss", "invoke_exit", "partners_disagree"]},  # partners_disagree: an alliance's partners differed
        deadlock_resolution={"type": "string", "title": "Deadlock resolved by the exit strategy", "enum": [
            "continue", "invoke_exit", "external_mediation"]},
        mediation_outcome={"type": "string", "title": "Mediation outcome", "enum": ["continue", "invoke_exit"]},
        outcome={"type": "string", "title": "Outcome", "enum": [
            "awaiting_decision", "dismissed", "exit_invoked", "deadlock"]}),
    ("exit_triggers",),
    "Events that would lead the partners to consider ending the relationship, and each one raised with both "
    "SERs' decisions and its outcome. From stage 5 to 7, staff, SERs and the joint management team of either "
    "organisation may raise one; both SERs decide.")
ACTIONS = Register(
    "actions", "Action plans", "action", _object(
        ("action", "owner", "deadline", "status"),
        action=_text("Action", minLength=1), owner=_text("Owner", minLength=1),
        deadline={"type": "string", "format": "date", "title": "Deadline"}, status={**STATUS, "title": "Status"},
        plan=_text("Plan"), kind={"type": "string", "title": "Kind", "enum": ["preventive", "corrective"]}),
    ("implementation_plan", "internal_action_plan", "selection_action_plan", "preventive_corrective_actions",
     "management_review_actions", "corrective_actions", "partner_corrective_actions"),
    "Actions from every plan with owner, deadline and status; open actions past their deadline are overdue.")
ISSUES = Register(
    "issues", "Issue log", "title", _object(("title",), title=_text("Issue")), (),
    "Issues raised in stages 5-7 with their escalation history, read from the issue-resolution processes.",
    editable=False)

OPPORTUNITIES = Register(
    "opportunities", "Opportunities", "opportunity", _object(
        ("opportunity", "owner"),
        opportunity=_text("Opportunity", minLength=1), benefit_sought=_text("Benefit sought", 2000),
        owner=_text("Owner", minLength=1), likelihood={**LEVELS, "title": "Likelihood (1-5)"},
        value={**LEVELS, "title": "Value (1-5)"}, action=_text("Action", 2000),
        review_date={"type": "string", "format": "date", "title": "Review date"}),
    ("opportunities",),
    "Opportunities beside the risks (ISO 44001 6.1), each with the benefit sought, an owner and its next review; "
    "overdue reviews are flagged.")
CONTEXT = Register(
    "context", "Context issues", "issue", _object(
        ("issue",),
        issue=_text("Issue", minLength=1), kind={"type": "string", "title": "Kind", "enum": ["internal", "external"]},
        effect_on_collaboration={"type": "string", "title": "Effect on collaboration",
                                 "enum": ["positive", "negative", "both"]},
        owner=_text("Owner"), review_date={"type": "string", "format": "date", "title": "Review date"}),
    ("context_issues",),
    "Internal and external issues that affect collaborative relationships (ISO 44001 4.1).", scope="organisation")
PARTIES = Register(
    "interested-parties", "Interested parties", "party", _object(
        ("party",),
        party=_text("Interested party", minLength=1), kind={"type": "string", "title": "Kind", "enum": [
            "customer", "partner", "supplier", "regulator", "employee", "shareholder", "community", "other"]},
        requirements=_text("Their requirements", 2000), how_monitored=_text("How monitored", 2000),
        owner=_text("Owner")),
    ("interested_parties",),
    "Who has a stake in the organisation's collaboration and what they require (ISO 44001 4.2).",
    scope="organisation")
DOCUMENTS = Register(
    "documents", "Controlled documents", "title", _object(
        ("title", "owner", "version", "status"),
        title=_text("Document", minLength=1), kind={"type": "string", "title": "Kind", "enum": [
            "policy", "procedure", "plan", "record", "form", "other"]},
        owner=_text("Owner", minLength=1), version=_text("Version", 40, minLength=1),
        status={"type": "string", "title": "Status", "enum": ["draft", "approved", "withdrawn"]},
        approved_by=_text("Approved by"), approved_on={"type": "string", "format": "date", "title": "Approved on"},
        review_date={"type": "string", "format": "date", "title": "Review date"},
        distribution=_text("Distribution", 2000), retention_period=_text("Retention", 40)),
    ("controlled_documents",),
    "The management system's documents with owner, version, approval, review date, distribution and retention "
    "(ISO 44001 7.5); a document past its review date is flagged.", scope="organisation")

COMPETENCES = ["trust_building", "negotiation", "joint_problem_solving", "communication", "risk_management",
               "knowledge_sharing", "conflict_resolution", "value_creation", "leadership"]
COMPETENCE = Register(
    "competence", "Competence records", "person", _object(
        ("person", "role", "competence", "assessed_level", "assessed_on"),
        person=_text("Person", minLength=1), role=_text("Collaborative role", minLength=1),
        competence={"type": "string", "title": "Competence", "enum": COMPETENCES},
        required_level={**LEVELS, "title": "Required level (1-5)"},
        assessed_level={**LEVELS, "title": "Assessed level (1-5)"},
        assessed_on={"type": "string", "format": "date", "title": "Assessed on"},
        evidence=_text("Evidence", 2000), review_date={"type": "string", "format": "date", "title": "Reassess by"}),
    ("people_competence",),
    "Each person in a collaborative role assessed against the competence framework (ISO 44001 7.2), with the "
    "level the framework requires of the role; a person below it, or past their reassessment date, is flagged.",
    scope="organisation", key_with=("competence",))
TRAINING = Register(
    "training", "Training records", "person", _object(
        ("person", "training", "completed_on", "effective"),
        person=_text("Person", minLength=1), training=_text("Training", minLength=1),
        completed_on={"type": "string", "format": "date", "title": "Completed on"},
        effective={"type": "string", "title": "Effective?", "enum": ["yes", "partly", "no", "not_yet_assessed"]},
        notes=_text("How effectiveness was judged", 2000)),
    ("training_records",),
    "Training given for collaboration and whether it closed the competence gap (ISO 44001 7.2: the effectiveness "
    "of the actions taken); training judged not effective, or not yet judged, is flagged.",
    scope="organisation", key_with=("training",))

PORTFOLIO = Register(
    "portfolio", "Relationship portfolio", "name", _object(
        ("name", "relationship_type", "value", "risk", "complexity", "strategic_fit"),
        name=_text("Organisation", minLength=1), relationship_type={"type": "string", "title": "Type", "enum": [
            "customer", "supplier", "partner", "alliance", "joint_venture", "public_body", "other"]},
        market=_text("Market or sector"), customer_type=_text("Customer type"), geography=_text("Geography"),
        value={**LEVELS, "title": "Value (1-5)"}, risk={**LEVELS, "title": "Risk (1-5)"},
        complexity={**LEVELS, "title": "Complexity (1-5)"}, strategic_fit={**LEVELS, "title": "Strategic fit (1-5)"},
        collaboration_fits={"type": "boolean", "title": "Collaboration fits"},
        opportunities=_text("Opportunities", 20000)),
    ("relationships",),
    "Every significant relationship of the organisation, segmented and scored (ISO 44001 S1.05); the set-up's "
    "portfolio task feeds it, and the management system ranks it by the set-up's weights.", scope="organisation")

REGISTERS = {r.name: r for r in (RISK, OPPORTUNITIES, VALUE, KNOWLEDGE, EXIT_TRIGGERS, ACTIONS, ISSUES, CONTEXT,
                                 PARTIES, DOCUMENTS, COMPETENCE, TRAINING, PORTFOLIO)}
REVIEWED = {"risks", "opportunities", "context", "documents", "competence"}  # an entry past its review date is flagged
FEEDS = {f: r for r in REGISTERS.values() for f in r.feeds}
PLAN_OF_FEED = {"implementation_plan": "Implementation plan", "internal_action_plan": "Internal action plan",
                "selection_action_plan": "Selection action plan",
                "preventive_corrective_actions": "Preventive and corrective actions",
                "management_review_actions": "Management review",
                "corrective_actions": "SER performance review", "partner_corrective_actions": "SER performance review"}
