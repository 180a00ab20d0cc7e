"""Every user task's form, keyed by task id: {task_id: (json_schema, ui_schema)}.

Field names are stable across stages on purpose: a later task that shows `risks`,
`exit_strategy`, `exit_triggers`, `selection_criteria` or the RMP fields reads the current
value from the task data, so the form opens with what earlier stages recorded.
"""
from __future__ import annotations

from form_fields import (
    boolean,
    choice,
    date,
    evidence,
    form,
    integer,
    multi,
    number,
    obj,
    require_if,
    rows,
    text,
    textarea,
)

FORMS: dict[str, tuple[dict, dict]] = {}


def register(task_id, title, description, fields, conditions=()):
    if task_id in FORMS:
        raise ValueError(f"form {task_id} defined twice")
    FORMS[task_id] = form(title, description, fields, conditions)


# --------------------------------------------------------------------------------------------
# Shared vocabularies and field groups (same name, same shape, wherever they appear)
# --------------------------------------------------------------------------------------------
RAG = [("green", "Green: on track"),
       ("amber", "Amber: some concern, watch and act"),
       ("red", "Red: serious concern, action needed now")]
ORG = [("ours", "Our organisation"), ("partner", "Partner organisation"), ("joint", "Both organisations")]
ACTION_STATUS = [("open", "Open"), ("in_progress", "In progress"), ("done", "Done"), ("cancelled", "Cancelled")]
FREQUENCY = [("monthly", "Monthly"), ("quarterly", "Quarterly"), ("half_yearly", "Every six months"),
             ("annually", "Annually")]
ISO_DURATION = r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$"


def risks_field(title="Risk register", desc=None, joint=False):
    cols = [
        text("risk", "Risk", "What could go wrong, in one sentence."),
        choice("category", "Category", "General risks apply to collaboration as a whole; "
               "relationship risks belong to this relationship.",
               [("general", "General"), ("relationship", "Relationship-specific"),
                ("internal", "Internal issue threatening performance"), ("sustainability", "Sustainability")]),
        text("owner", "Owner", "The named person accountable for this risk. Every risk needs an owner."),
    ]
    if joint:
        cols.append(choice("owner_organisation", "Owner's organisation",
                           "Which partner the owner belongs to.", ORG))
    cols += [
        integer("likelihood", "Likelihood (1-5)", "How likely it is: 1 = rare, 5 = almost certain.", 1, 5),
        integer("impact", "Impact (1-5)", "How bad it would be: 1 = negligible, 5 = severe.", 1, 5),
        textarea("mitigation", "Mitigation", "What is done to reduce the likelihood or the impact."),
        date("review_date", "Next review date", "When this risk will next be looked at."),
    ]
    return rows("risks", title, desc or "One row per risk. The same register is refined in later stages "
                "and reviewed on a cycle.", cols, item_title="Risk")


def exit_strategy_field(desc):
    return textarea("exit_strategy", "Exit strategy", desc)


def exit_triggers_field(min_items=1):
    return rows("exit_triggers", "Exit triggers",
                "Events that would lead the partners to consider ending the relationship, and what then "
                "happens. Anyone may raise a trigger from stage 5 on; the SERs decide.",
                [text("trigger", "Trigger", "The event, e.g. partner insolvency or change of control."),
                 choice("category", "Category", "The kind of trigger.",
                        [("insolvency", "Partner insolvency"), ("change_of_control", "Change of control"),
                         ("under_performance", "Sustained under-performance"),
                         ("breach_of_principles", "Breach of agreed principles"),
                         ("objectives_achieved", "Objectives achieved"), ("other", "Other")]),
                 text("indicator", "How we will know", "The signal or measure that shows the trigger happened."),
                 textarea("response", "Agreed response", "What the partners do when the trigger occurs.")],
                min_items=min_items, item_title="Exit trigger")


def action_rows(name, title, desc, extra=()):
    return rows(name, title, desc,
                [text("action", "Action", "What will be done."),
                 text("owner", "Owner", "The person responsible for the action."),
                 date("deadline", "Deadline", "When the action must be done."),
                 choice("status", "Status", "Where the action stands.", ACTION_STATUS), *extra],
                item_title="Action")


def rmp_fields(plan, stage_title):
    return [
        choice("rmp_type", "Plan type", "Which form the Relationship Management Plan has at this point: "
               "corporate (CRMP, stages 1-3), project-specific (PRMP, stage 4) or joint (JRMP, stage 5 on).",
               [("CRMP", "Corporate plan (CRMP)"), ("PRMP", "Project plan (PRMP)"), ("JRMP", "Joint plan (JRMP)")],
               help=f"Expected here: {plan}."),
        multi("rmp_sections_updated", "Sections updated", f"Which parts of the plan were changed by the "
              f"{stage_title} stage.",
              [("scope", "Scope"), ("policy", "Policy"), ("objectives", "Objectives"), ("value", "Value"),
               ("risks", "Risks"), ("knowledge", "Knowledge"), ("competencies", "Competencies"),
               ("partner_selection", "Partner selection"), ("governance", "Governance"),
               ("measures", "Performance measures"), ("exit_strategy", "Exit strategy"),
               ("actions", "Action plans")], min_items=1),
        textarea("rmp_change_summary", "What changed", "A short account of the changes in this version of "
                 "the plan, for the approval record."),
        evidence("rmp_document", "Plan document", "The updated plan as a controlled document (the upload "
                 "becomes a new version; the SER's approval is recorded against it).", required=True),
        date("rmp_next_review", "Next plan review", "When the plan will next be reviewed."),
    ]


def gate_fields(stage_title, allow_stop=False, partner=False, approve_label=None, rework_label=None):
    prefix = "partner_" if partner else ""
    who = "the partner organisation's SER" if partner else "our SER"
    options = [("approve", approve_label or f"Approve the {stage_title} stage"),
               ("rework", rework_label or "Send back for rework")]
    if allow_stop:
        options.append(("stop", "Stop: collaboration is not appropriate (the relationship stays transactional)"))
    decision = choice(f"{prefix}decision", "Decision", f"The decision of {who}. Rework reopens the stage's "
                      "tasks with their current answers" + (
                          "; stop ends the lifecycle with the outcome 'not appropriate'" if allow_stop else "")
                      + ".", options, widget="radio")
    comments = textarea(f"{prefix}comments", "Comments", "Why this decision; what must change. Mandatory "
                        "when sending back" + (" or stopping" if allow_stop else "") + ".", required=False)
    cond = require_if(f"{prefix}decision", ["rework", "stop"] if allow_stop else ["rework"],
                      [f"{prefix}comments"])
    return [decision, comments], [cond]


def register_gate(task_id, stage_title, what, allow_stop=False, partner=False, extra=(), **labels):
    fields, conds = gate_fields(stage_title, allow_stop, partner, **labels)
    who = "Partner SER" if partner else "SER"
    register(task_id, f"{who} approval: {stage_title}",
             f"{what} You may not approve work you completed yourself (four eyes).",
             [*extra, *fields], conds)


# --------------------------------------------------------------------------------------------
# Stage 1: Awareness
# --------------------------------------------------------------------------------------------
register("s1_appoint_ser", "Appoint the Senior Executive Responsible (SER)",
         "Formally appoint the executive who sponsors collaborative working and approves each stage.", [
             text("ser_name", "SER name", "Full name of the person appointed as SER."),
             text("ser_role", "Position", "Their job title in the organisation, e.g. Chief Operating Officer."),
             date("ser_appointed_on", "Appointed on", "Date of the formal appointment."),
             text("ser_appointed_by", "Appointed by", "Who made the appointment, e.g. the board or the CEO."),
             textarea("ser_authority", "Scope of authority", "What the SER may decide alone and what needs "
                      "the board: budgets, approvals, stopping relationships."),
             evidence("ser_terms_of_reference", "Terms of reference", "The signed terms of reference or "
                      "appointment letter.", required=True),
         ])

register("s1_policy", "Collaborative working policy",
         "Write the policy, commit to continual improvement and record how it is communicated.", [
             textarea("policy_text", "Policy statement", "The collaborative working policy as approved: why the "
                      "organisation collaborates, its principles and how it behaves with partners."),
             boolean("policy_continual_improvement", "Commitment to continual improvement",
                     "Tick to confirm the policy includes a commitment to continually improve collaborative "
                     "working. The standard requires it.", const=True),
             date("policy_approved_on", "Policy approved on", "The date the policy was approved for issue."),
             evidence("policy_document", "Policy document", "The issued policy document.", required=True),
             rows("policy_communications", "Communication of the policy",
                  "One row per audience: who was told, how, and when.",
                  [text("audience", "Audience", "Who must know the policy, e.g. all staff, key suppliers."),
                   choice("channel", "Channel", "How the policy reached this audience.",
                          [("intranet", "Intranet"), ("email", "Email"), ("briefing", "Briefing or meeting"),
                           ("training", "Training"), ("website", "Public website"),
                           ("contract", "Contract or tender documents"), ("other", "Other")]),
                   date("communicated_on", "Date", "When it was communicated."),
                   evidence("communication_evidence", "Evidence", "A record that it happened, e.g. the "
                            "briefing slides or attendance list.")],
                  item_title="Communication"),
         ])

register("s1_objectives_value", "Business objectives and the value of collaboration",
         "Identify the strategic objectives collaboration should serve and the value it could bring.", [
             rows("business_objectives", "Strategic business objectives",
                  "The objectives of the organisation that collaborative working should support.",
                  [text("objective", "Objective", "The business objective in one sentence."),
                   text("measure", "Measure", "How success is measured."),
                   date("target_date", "Target date", "When the objective should be met.")],
                  item_title="Objective"),
             rows("collaboration_benefits", "Potential value and benefits",
                  "Where working collaboratively could create value.",
                  [text("benefit", "Benefit", "The expected benefit."),
                   choice("benefit_type", "Type", "The kind of value.",
                          [("cost", "Lower cost"), ("revenue", "More revenue"), ("innovation", "Innovation"),
                           ("risk_sharing", "Shared risk"), ("capability", "New capability"),
                           ("market_access", "Market access"), ("quality", "Quality"),
                           ("sustainability", "Sustainability")]),
                   number("estimated_value", "Estimated value (per year)", "A rough money value, in the "
                          "organisation's currency; 0 if not measurable.", minimum=0),
                   choice("confidence", "Confidence", "How sure the estimate is.",
                          [("low", "Low"), ("medium", "Medium"), ("high", "High")])],
                  item_title="Benefit"),
         ])

register("s1_relationships", "Significant relationships and implementation plans",
         "List all significant relationships, segment and prioritise them, and plan where collaboration fits.", [
             rows("relationships", "Relationships",
                  "One row per significant external relationship.",
                  [text("name", "Organisation", "The other organisation's name."),
                   choice("relationship_type", "Type", "What the relationship is.",
                          [("customer", "Customer"), ("supplier", "Supplier"), ("partner", "Partner"),
                           ("alliance", "Alliance"), ("joint_venture", "Joint venture"),
                           ("public_body", "Public body"), ("other", "Other")]),
                   text("market", "Market or sector", "The market or sector the relationship serves."),
                   text("customer_type", "Customer type", "The kind of end customer concerned."),
                   text("geography", "Geography", "Country or region."),
                   integer("priority", "Priority (1-5)", "1 = most important to the business.", 1, 5),
                   boolean("collaboration_fits", "Collaboration fits",
                           "Tick if a collaborative approach is worth pursuing for this relationship."),
                   textarea("opportunities", "Opportunities", "What could be gained by collaborating.",
                            required=False),
                   textarea("implementation_plan", "Implementation plan", "For relationships where "
                            "collaboration fits: the next steps, owner and dates.", required=False)],
                  item_title="Relationship"),
         ])

register("s1_policy_review", "Review existing policies and procedures",
         "Check which existing policies and procedures help or hinder collaboration, and document the changes.", [
             rows("policy_changes", "Policies and procedures reviewed",
                  "One row per policy or procedure looked at.",
                  [text("document", "Policy or procedure", "Its name and reference."),
                   choice("effect", "Effect on collaboration", "Whether it supports collaboration today.",
                          [("supports", "Supports"), ("neutral", "Neutral"), ("hinders", "Hinders")]),
                   textarea("change", "Change made or needed", "What was changed, or why nothing is needed."),
                   choice("status", "Status", "Where the change stands.", ACTION_STATUS),
                   evidence("revised_document", "Revised document", "The changed document, if any.")],
                  item_title="Policy or procedure"),
         ])

COMPETENCIES = [("trust_building", "Building trust"), ("negotiation", "Collaborative negotiation"),
                ("joint_problem_solving", "Joint problem solving"), ("communication", "Communication"),
                ("risk_management", "Risk management"), ("knowledge_sharing", "Knowledge sharing"),
                ("conflict_resolution", "Conflict resolution"), ("value_creation", "Value creation"),
                ("leadership", "Collaborative leadership")]

register("s1_competencies", "Competencies, behaviours and key roles",
         "Define what collaboration needs from the organisation and from individuals, and name the key people.", [
             multi("corporate_competencies", "Corporate competencies", "The competencies the organisation as a "
                   "whole must have to collaborate well.", COMPETENCIES, min_items=1),
             textarea("expected_behaviours", "Expected behaviours", "How people are expected to behave "
                      "towards partners, e.g. openness, no blame, early warning of problems."),
             rows("key_roles", "Key people and roles", "The roles collaboration depends on and who holds them.",
                  [text("role", "Role", "The role, e.g. relationship manager."),
                   text("person", "Person", "Who holds it."),
                   textarea("responsibilities", "Responsibilities", "What the role is accountable for."),
                   multi("competencies", "Competencies needed", "Which competencies the role needs.",
                         COMPETENCIES)],
                  item_title="Role"),
         ])

register("s1_initial_risks", "Initial risk assessment",
         "Weigh the initial risks of collaborating against the potential benefits, with mitigation plans.", [
             risks_field("Initial risk register", "General and relationship-specific risks, each with an owner "
                         "and a mitigation plan. Later stages refine this same register."),
             textarea("risk_benefit_summary", "Risks against benefits", "On balance, do the benefits justify "
                      "the risks? Say why."),
         ])

register("s1_management_system", "Management system overview",
         "Describe how the organisation's management system meets the standard, and its scope.", [
             textarea("ms_overview", "Overview", "How the management system covers each part of the standard, "
                      "and where the procedures live."),
             textarea("ms_scope", "Scope", "Which business units, sites and kinds of relationship it covers."),
             textarea("ms_exclusions", "Exclusions", "Anything deliberately left out, and why.", required=False),
             evidence("ms_document", "Management system document", "The manual or overview document.",
                      required=True),
         ])

register("s1_crmp", "Start the corporate Relationship Management Plan (CRMP)",
         "Create the corporate plan with its scope and core elements.", [
             textarea("rmp_scope", "Plan scope", "What the corporate plan covers."),
             *rmp_fields("CRMP", "Awareness"),
         ])

register_gate("s1_ser_gate", "Awareness", "Approve the Awareness stage: SER appointment, policy, objectives, "
              "relationships, risks, management system and the corporate plan.")

# --------------------------------------------------------------------------------------------
# Stage 2: Knowledge
# --------------------------------------------------------------------------------------------
register("s2_opportunity", "The opportunity, its objectives and key drivers",
         "Describe the opportunity, set its objectives and key drivers, and record that the organisational "
         "focus is approved and communicated.", [
             text("opportunity_name", "Opportunity", "A short name for the opportunity."),
             textarea("opportunity_description", "Description", "What the opportunity is and who it involves."),
             rows("relationship_objectives", "Objectives of the relationship",
                  "What the organisation wants from this relationship.",
                  [text("objective", "Objective", "The objective in one sentence."),
                   text("key_driver", "Key driver", "Why it matters now, e.g. a customer demand or a cost target."),
                   text("measure", "Measure", "How it will be measured.")],
                  item_title="Objective"),
             boolean("focus_approved", "Organisational focus approved",
                     "Tick when management has approved the focus on this opportunity."),
             textarea("focus_communication", "How the focus was communicated", "Who was told about the focus "
                      "on this opportunity, and how."),
         ])

register("s2_people_skills", "People, skills and authority",
         "Identify the experience, skills and authority of the people involved and plan training for gaps.", [
             rows("people", "People involved", "One row per person working on the relationship.",
                  [text("name", "Name", "The person's name."),
                   text("role", "Role", "Their role in the relationship."),
                   textarea("experience", "Experience and skills", "Relevant experience and competencies."),
                   choice("authority_level", "Level of authority", "What they may commit the organisation to.",
                          [("none", "None: informs only"), ("recommend", "May recommend"),
                           ("approve_within_budget", "May approve within a budget"),
                           ("full", "Full authority")])],
                  item_title="Person"),
             rows("training_plan", "Training for gaps", "Training planned where skills fall short.",
                  [text("gap", "Gap", "The missing skill or competence."),
                   text("person", "For whom", "Who needs it."),
                   text("training", "Training", "The course or development action."),
                   date("due", "Due", "When it will be completed.")],
                  required=False, min_items=0, item_title="Training"),
         ])

register("s2_knowledge", "Knowledge management and sharing rules",
         "Set up how knowledge is captured and managed, and decide what is shared with other organisations.", [
             textarea("knowledge_process", "Knowledge process", "How knowledge is captured, created, stored "
                      "and kept up to date."),
             rows("knowledge_map", "Knowledge map", "What knowledge exists, who owns it, and whether it may be "
                  "shared with a partner.",
                  [text("asset", "Knowledge asset", "e.g. pricing model, process know-how, customer data."),
                   text("owner", "Owner", "Who owns it."),
                   choice("classification", "Classification", "How sensitive it is.",
                          [("public", "Public"), ("internal", "Internal"), ("confidential", "Confidential"),
                           ("restricted", "Restricted")]),
                   choice("sharing", "Sharing rule", "What may be shared with partner organisations.",
                          [("share", "Share"), ("share_under_nda", "Share under a confidentiality agreement"),
                           ("withhold", "Withhold")]),
                   text("share_with", "With whom", "Which partners or roles may receive it.", required=False)],
                  item_title="Knowledge asset"),
             textarea("sharing_guidelines", "Sharing guidelines", "The general rules staff follow when deciding "
                      "what to share, with whom, and how."),
         ])

register("s2_business_case", "Strategy, business case and market analysis",
         "Develop the strategy and business case, analyse the market and customers, and evaluate the value.", [
             textarea("strategy", "Strategy", "How the organisation will pursue the opportunity."),
             textarea("business_case", "Business case", "Costs, benefits, investment and expected return."),
             evidence("business_case_document", "Business case document", "The full business case.",
                      required=True),
             textarea("market_analysis", "Market and customers", "The market sector, the customer base, and "
                      "what customers require and expect."),
             rows("value_alignment", "Value against business objectives",
                  "How much the relationship contributes to each business objective.",
                  [text("objective", "Business objective", "One of the strategic objectives."),
                   choice("contribution", "Contribution", "How much this relationship helps it.",
                          [("none", "None"), ("low", "Low"), ("medium", "Medium"), ("high", "High")])],
                  item_title="Objective"),
             number("relationship_value", "Estimated value of the relationship (per year)",
                    "Expected yearly value in the organisation's currency.", minimum=0),
         ])

register("s2_potential_partners", "Potential partners",
         "Identify organisations that could partner on this opportunity.", [
             rows("potential_partners", "Potential partners", "One row per organisation considered.",
                  [text("organisation", "Organisation", "Its name."),
                   textarea("why", "Why them", "What they would bring."),
                   text("known_contact", "Known contact", "A contact, if there is one.", required=False)],
                  item_title="Potential partner"),
         ])

register("s2_exit_assessment", "Initial exit strategy assessment",
         "Think about how the relationship could end before it starts.", [
             exit_strategy_field("How the organisation could leave this relationship: the likely reasons, "
                                 "what would have to be unwound, and how customers and staff are protected. "
                                 "Drafted here, refined in stage 4, maintained in stage 7 and carried out in 8."),
             textarea("exit_dependencies", "What would be hard to unwind", "Assets, people, data or contracts "
                      "that would make an exit difficult."),
         ])

register("s2_risks", "Relationship risks and interdependencies",
         "Bring relationship risks into the corporate risk process and establish the interdependencies.", [
             risks_field(desc="Update the register with this relationship's risks: internal issues that threaten "
                         "performance, business impact and sustainability. Every risk needs an owner."),
             textarea("business_impact_assessment", "Business impact assessment", "What happens to the business "
                      "if the relationship fails."),
             textarea("sustainability_assessment", "Sustainability", "Whether the relationship can be sustained "
                      "over its intended life: financially, environmentally and socially."),
             rows("interdependencies", "Interdependencies", "What each side depends on from the other.",
                  [text("dependency", "Dependency", "What depends on what."),
                   choice("direction", "Direction", "Who depends on whom.",
                          [("we_depend", "We depend on them"), ("they_depend", "They depend on us"),
                           ("mutual", "Mutual")]),
                   textarea("impact", "Impact if it fails", "The consequence if the dependency breaks."),
                   date("review_date", "Review date", "When it will next be reviewed.")],
                  item_title="Interdependency"),
         ])

register("s2_rmp_update", "Update the Relationship Management Plan (Knowledge)",
         "Review the implementation plan and update the plan with what this stage learned.", [
             textarea("implementation_plan_review", "Implementation plan review", "What changed in the "
                      "implementation plan for this opportunity and why."),
             *rmp_fields("CRMP", "Knowledge"),
         ])

register_gate("s2_ser_gate", "Knowledge", "Decide whether collaboration is appropriate for this opportunity, "
              "on the objectives, business case, risks and initial exit assessment.", allow_stop=True,
              approve_label="Approve: collaboration is appropriate, continue")

# --------------------------------------------------------------------------------------------
# Stage 3: Internal assessment
# --------------------------------------------------------------------------------------------
register("s3_internal_assessment", "Internal constraints, strengths and weaknesses",
         "Assess what helps and what blocks collaboration inside the organisation.", [
             rows("internal_assessment", "Assessment", "One row per factor found.",
                  [text("factor", "Factor", "The strength, weakness, constraint or blocker."),
                   choice("kind", "Kind", "What sort of factor it is.",
                          [("strength", "Strength"), ("weakness", "Weakness"), ("constraint", "Constraint"),
                           ("blocker", "Blocker")]),
                   textarea("action", "Action", "What will be done about it.", required=False)],
                  item_title="Factor"),
             date("internal_assessment_next_review", "Next review", "When this assessment will be repeated."),
         ])

register("s3_collaborative_profile", "Collaborative profile",
         "Establish the organisation's collaborative profile and how its effectiveness is monitored.", [
             textarea("collaborative_profile", "Profile", "How collaborative the organisation is today: "
                      "culture, experience, track record with partners."),
             integer("collaborative_maturity", "Maturity (1-5)", "Self-assessed maturity: 1 = ad hoc, "
                     "5 = embedded and improving.", 1, 5),
             rows("profile_measures", "Effectiveness measures", "How the profile's effectiveness is monitored.",
                  [text("measure", "Measure", "What is measured."),
                   text("target", "Target", "The level aimed for."),
                   choice("frequency", "How often", "How often it is measured.", FREQUENCY)],
                  item_title="Measure"),
         ])

register("s3_appoint_leadership", "Appoint collaborative leadership",
         "Appoint leaders with the right attributes and competence for collaborative working.", [
             rows("collaborative_leaders", "Collaborative leaders", "One row per leader appointed.",
                  [text("name", "Name", "The leader's name."),
                   text("role", "Role", "The leadership role they take."),
                   multi("attributes", "Attributes", "The collaborative attributes they show.", COMPETENCIES,
                         min_items=1),
                   date("appointed_on", "Appointed on", "Date of appointment."),
                   evidence("competence_evidence", "Competence evidence", "e.g. CV, assessment, training record.")],
                  item_title="Leader"),
         ])

register("s3_selection_criteria", "Partner selection criteria",
         "Define the weighted criteria every candidate partner will be scored against in stage 4.", [
             rows("selection_criteria", "Selection criteria",
                  "Each criterion gets a weight; stage 4 scores every candidate 0-10 per criterion and computes "
                  "a weighted score.",
                  [text("criterion", "Criterion", "A short unique name, used when scoring candidates."),
                   choice("category", "Category", "What the criterion is about.",
                          [("financial_standing", "Financial standing"), ("track_record", "Track record"),
                           ("quality", "Quality"), ("culture", "Culture"),
                           ("approach_to_relationships", "Approach to relationships"),
                           ("capability", "Capability"), ("other", "Other")]),
                   integer("weight", "Weight", "How much this criterion counts, 1-100.", 1, 100),
                   textarea("how_assessed", "How it is assessed", "The evidence that is looked at.")],
                  item_title="Criterion"),
         ])

register("s3_skills_gaps", "Collaborative skills gap analysis",
         "Compare the skills the organisation has with those it needs, and plan how to close the gaps.", [
             rows("skills_gaps", "Skills gaps", "One row per skill assessed.",
                  [text("skill", "Skill", "The collaborative skill."),
                   integer("current_level", "Current level (1-5)", "Where the organisation is now.", 1, 5),
                   integer("required_level", "Required level (1-5)", "Where it needs to be.", 1, 5),
                   choice("plan", "How to close the gap", "The chosen route.",
                          [("train", "Train"), ("recruit", "Recruit"), ("partner", "Rely on the partner"),
                           ("accept", "Accept the gap")]),
                   date("due", "Due", "When the gap should be closed.")],
                  item_title="Skill"),
         ])

register("s3_action_plan", "Internal action plan",
         "The actions that make the organisation ready, with owners and deadlines.", [
             action_rows("internal_action_plan", "Internal action plan", "Actions coming out of the internal "
                         "assessment."),
             textarea("action_plan_effectiveness", "Effectiveness review", "How and when the plan's "
                      "effectiveness is reviewed, and the result of the last review."),
         ])

register("s3_rmp_update", "Update the Relationship Management Plan (Internal assessment)",
         "Record the internal assessment in the plan.", rmp_fields("CRMP", "Internal assessment"))

register_gate("s3_ser_gate", "Internal assessment", "Approve the organisation as ready to engage partners. "
              "Approving also schedules the periodic SER review of the management system.",
              approve_label="Approve: ready to engage partners")

# --------------------------------------------------------------------------------------------
# Stage 4: Partner selection
# --------------------------------------------------------------------------------------------
CANDIDATE_IDENTITY = [
    text("name", "Candidate", "The candidate organisation's name."),
    text("country", "Country", "Where the candidate is based."),
    text("contact", "Contact", "Who would be approached.", required=False),
    textarea("nomination_rationale", "Why nominated", "Why this candidate is worth approaching."),
]

register("s4_nominate_candidates", "Nominate candidate partners",
         "List the organisations you propose to approach. The SER must agree before anyone is contacted.", [
             rows("candidates", "Candidates", "One row per candidate. Each is evaluated separately, on the same "
                  "criteria.", CANDIDATE_IDENTITY, item_title="Candidate"),
         ])

register("s4_ser_agree_approach", "SER agreement before approaching candidates",
         "Agree (or not) that the nominated candidates may be approached.", [
             choice("approach_decision", "Decision", "Agree lets the evaluation start; revise sends the "
                    "nomination back.", [("agree", "Agree: the candidates may be approached"),
                                         ("revise", "Revise the nomination")], widget="radio"),
             textarea("approach_comments", "Comments", "Conditions or reasons. Mandatory when revising.",
                      required=False),
             date("approach_agreed_on", "Date", "Date of the decision."),
         ], [require_if("approach_decision", ["revise"], ["approach_comments"])])

register("s4_evaluate_candidate", "Evaluate a candidate partner",
         "Score this candidate on every selection criterion from stage 3 (0-10). One task per candidate, on "
         "an equal, auditable basis.", [
             obj("candidate", "Candidate", "The candidate being evaluated and its scores.", [
                 text("name", "Candidate", "The candidate organisation (from the nomination).", read_only=True),
                 rows("scores", "Scores", "One row per selection criterion; use the criterion names from stage 3.",
                      [text("criterion", "Criterion", "The criterion name exactly as defined in stage 3."),
                       integer("score", "Score (0-10)", "0 = does not meet it at all, 10 = fully meets it.", 0, 10),
                       textarea("evidence_note", "Evidence", "What the score is based on.")],
                      item_title="Score"),
                 textarea("strengths", "Strengths", "The candidate's main strengths."),
                 textarea("concerns", "Concerns", "Risks or doubts about the candidate."),
                 evidence("evaluation_evidence", "Evaluation evidence", "e.g. financial report, references."),
                 choice("recommendation", "Recommendation", "The evaluator's recommendation.",
                        [("shortlist", "Shortlist"), ("reserve", "Reserve"), ("reject", "Reject")]),
             ]),
         ])

register("s4_action_plans", "Partner selection action plans",
         "Short, medium and long-term measures for selecting and engaging the partner.", [
             action_rows("selection_action_plan", "Selection action plan", "Actions with their time horizon.",
                         extra=(choice("horizon", "Horizon", "When the measure pays off.",
                                       [("short", "Short term"), ("medium", "Medium term"),
                                        ("long", "Long term")]),)),
         ])

register("s4_joint_objectives", "Candidate objectives and joint objectives",
         "Appraise the preferred candidate's objectives and draft common and joint objectives.", [
             textarea("candidate_objectives_appraisal", "Candidate's objectives", "What the candidate wants from "
                      "the relationship, and where it matches or conflicts with our objectives."),
             rows("joint_objectives", "Draft joint objectives", "Objectives both parties would sign up to.",
                  [text("objective", "Objective", "The objective."),
                   choice("kind", "Kind", "Common objectives are shared; joint objectives need both to deliver.",
                          [("common", "Common"), ("joint", "Joint")]),
                   text("measure", "Measure", "How it will be measured."),
                   date("target_date", "Target date", "When it should be achieved.")],
                  item_title="Objective"),
         ])

register("s4_negotiation_strategy", "Negotiation strategy",
         "Set roles in the negotiation, how value is created and shared, and how the relationship ends.", [
             rows("negotiation_roles", "Roles and responsibilities", "Who does what in the negotiation.",
                  [text("role", "Role", "e.g. lead negotiator."),
                   text("person", "Person", "Who."),
                   textarea("responsibility", "Responsibility", "What they are responsible for.")],
                  item_title="Role"),
             textarea("value_sharing", "Value creation and sharing", "How value will be created together and "
                      "how gains and pains are shared."),
             textarea("ending_terms", "How the relationship ends", "Terms for ending the relationship, to be "
                      "negotiated into the agreement."),
             textarea("negotiation_limits", "Limits", "What the organisation will not concede.", required=False),
         ])

register("s4_select_partner", "Select the partner and conclude the agreement",
         "Choose the partner on the weighted evaluation and record the negotiated agreement.", [
             text("selected_partner", "Selected partner", "The candidate selected (see the ranking in the "
                  "instructions)."),
             textarea("selection_rationale", "Rationale", "Why this candidate, especially if it is not the "
                      "highest weighted score."),
             boolean("agreement_concluded", "Agreement concluded", "Tick when the negotiated agreement is signed."),
             date("agreement_date", "Agreement date", "The date the agreement was signed."),
             text("agreement_reference", "Agreement reference", "Contract number or reference."),
             evidence("agreement_document", "Agreement", "The signed agreement.", required=True),
         ])

register("s4_exit_triggers", "Exit strategy and triggers for this agreement",
         "Update the exit strategy with triggers specific to the agreement just concluded.", [
             exit_strategy_field("The exit strategy drafted in stage 2, now updated for this partner and "
                                 "agreement."),
             exit_triggers_field(),
         ])

register("s4_rmp_update", "Relationship Management Plan for this relationship (PRMP)",
         "Turn the corporate plan into the plan for this specific relationship.",
         rmp_fields("PRMP", "Partner selection"))

register_gate("s4_ser_gate", "Partner selection", "Approve the partner selection: evaluations, the selected "
              "partner and agreement, exit triggers and the PRMP.")

# --------------------------------------------------------------------------------------------
# Stage 5: Working together
# --------------------------------------------------------------------------------------------
register("s5_identify_sers", "SERs of both organisations",
         "Identify the SER of each organisation for the joint programme.", [
             text("ser_name", "Our SER", "Our organisation's SER (from stage 1)."),
             text("partner_organisation", "Partner organisation", "The partner's legal name."),
             text("partner_ser_name", "Partner SER", "The partner's Senior Executive Responsible."),
             text("partner_ser_role", "Partner SER position", "Their job title."),
             date("partner_ser_confirmed_on", "Confirmed on", "When the partner confirmed its SER."),
         ])

register("s5_principles_governance", "Objectives, principles and governance",
         "Validate the key objectives and agree the core principles and governance of the collaboration.", [
             boolean("objectives_validated", "Key objectives validated",
                     "Tick when both parties have validated the joint objectives."),
             rows("core_principles", "Core principles", "The principles both organisations commit to.",
                  [text("principle", "Principle", "e.g. no surprises, joint problem solving."),
                   textarea("meaning", "What it means in practice", "How people will see it applied.")],
                  item_title="Principle"),
             textarea("governance_model", "Governance", "Boards, meetings, decision rights and escalation."),
             evidence("governance_document", "Governance document", "The agreed governance charter."),
         ])

register("s5_joint_leadership", "Joint leadership and joint management team",
         "Appraise competencies, appoint the joint leadership and set up the joint management team.", [
             rows("joint_leaders", "Joint leadership", "Leaders appointed by both organisations.",
                  [text("name", "Name", "The leader."),
                   choice("organisation", "Organisation", "Who they work for.", ORG[:2]),
                   text("role", "Role", "Their role."),
                   textarea("competence_appraisal", "Competence appraisal", "How their competence was judged.")],
                  item_title="Leader"),
             rows("jmt_members", "Joint management team", "Members of the joint management team.",
                  [text("name", "Name", "The member."),
                   choice("organisation", "Organisation", "Who they work for.", ORG[:2]),
                   text("role", "Role in the team", "e.g. chair, commercial lead.")],
                  item_title="Member"),
             evidence("org_structure", "Organisation chart", "The joint organisation structure."),
         ])

register("s5_measures_roles", "Performance measures, roles and responsibilities",
         "Review the joint objectives, define performance measures, and define roles and responsibilities.", [
             rows("performance_measures", "Performance measures", "How the joint objectives are measured.",
                  [text("objective", "Objective", "The joint objective."),
                   text("measure", "Measure", "The indicator."),
                   text("target", "Target", "The value aimed for."),
                   choice("frequency", "How often", "How often it is measured.", FREQUENCY),
                   text("owner", "Owner", "Who reports it.")],
                  item_title="Measure"),
             rows("roles", "Roles and responsibilities", "Who does what in the joint programme.",
                  [text("role", "Role", "The role."),
                   choice("organisation", "Organisation", "Which party provides it.", ORG),
                   text("person", "Person", "Who holds it.", required=False),
                   textarea("responsibilities", "Responsibilities", "What the role is accountable for.")],
                  item_title="Role"),
         ])

register("s5_knowledge_comms", "Joint knowledge management and communications",
         "Agree what each party will and will not share, and who needs what information.", [
             rows("joint_knowledge_plan", "Joint knowledge plan", "What each party shares.",
                  [text("asset", "Knowledge asset", "The knowledge or data."),
                   choice("owner_organisation", "Owned by", "Which party owns it.", ORG),
                   choice("sharing", "Sharing", "What happens to it.",
                          [("shared", "Shared"), ("shared_with_conditions", "Shared with conditions"),
                           ("not_shared", "Not shared")]),
                   textarea("conditions", "Conditions", "Conditions of use, if any.", required=False)],
                  item_title="Knowledge asset"),
             rows("communications_plan", "Communications strategy", "Who needs what information, and how.",
                  [text("audience", "Audience", "Who receives it."),
                   text("information", "Information", "What they receive."),
                   text("channel", "Channel", "How."),
                   choice("frequency", "How often", "How often.", FREQUENCY),
                   text("responsible", "Responsible", "Who sends it.")],
                  item_title="Communication"),
         ])

register("s5_joint_risks", "Joint risk management",
         "Agree the joint risk management process and set up the joint risk register.", [
             textarea("joint_risk_process", "Joint risk process", "How the partners identify, assess, own and "
                      "review risks together."),
             risks_field("Joint risk register", "The risk register, now joint: each risk has an owner from one of "
                         "the organisations. Reviewed on the R.RK cycle.", joint=True),
         ])

register("s5_processes_contracts", "Joint business processes and contracts",
         "Review and improve the joint business processes, and agree contracts that support collaboration.", [
             rows("process_improvements", "Business process review", "Processes reviewed and improved.",
                  [text("process", "Process", "The business process."),
                   textarea("finding", "Finding", "What the review found."),
                   textarea("improvement", "Improvement", "The change agreed."),
                   text("owner", "Owner", "Who makes the change.")],
                  item_title="Process"),
             textarea("contracting_arrangements", "Contracting arrangements", "The contract form and how it "
                      "supports collaboration, e.g. shared incentives, joint risk pots."),
             boolean("contract_supports_collaboration", "Contract supports collaboration",
                     "Tick when the joint team agrees the contract does not work against collaboration."),
             evidence("contract_document", "Contract", "The contract or framework agreement.", required=True),
         ])

register("s5_delivery_actions", "Delivery plans and corrective actions",
         "Implement the delivery plans, measure performance, and record preventive and corrective actions.", [
             rows("delivery_plans", "Delivery plans", "What will be delivered, by whom and when.",
                  [text("deliverable", "Deliverable", "What is delivered."),
                   choice("organisation", "Delivered by", "Which party delivers it.", ORG),
                   date("due", "Due", "When."),
                   text("measure", "Measure", "The performance measure it reports against.")],
                  item_title="Deliverable"),
             action_rows("preventive_corrective_actions", "Preventive and corrective actions",
                         "Actions taken to prevent or correct problems.",
                         extra=(choice("kind", "Kind", "Preventive or corrective.",
                                       [("preventive", "Preventive"), ("corrective", "Corrective")]),
                                textarea("cause", "Cause", "The problem or risk it addresses."))),
         ])

register("s5_audit_programme", "Internal audit programme",
         "Plan the internal audits of the collaborative processes (the audits run on the R.S5 cycle).", [
             rows("audit_programme", "Audit programme", "The audits planned.",
                  [text("scope", "Scope", "The processes audited."),
                   text("auditor", "Auditor", "Who audits; must be independent of the work."),
                   choice("frequency", "How often", "How often this scope is audited.", FREQUENCY)],
                  item_title="Audit"),
             text("audit_criteria", "Audit criteria", "The standard and procedures audited against."),
         ])

register("s5_jrmp", "Joint Relationship Management Plan (JRMP)",
         "Turn the plan into the joint plan that both organisations use as their management platform.",
         [boolean("jrmp_agreed_by_both", "Agreed by both organisations",
                  "Tick when both organisations have accepted the joint plan."),
          *rmp_fields("JRMP", "Working together")])

_BOTH = ("Both SERs must approve; the stage is approved only if both do. ")
register_gate("s5_ser_gate", "Working together", _BOTH + "Approve the working-together arrangements. Approval "
              "schedules the internal audit and joint risk register reviews.")
register_gate("s5_partner_ser_gate", "Working together", _BOTH + "Approve the working-together arrangements.",
              partner=True)

# --------------------------------------------------------------------------------------------
# Stage 6: Value creation
# --------------------------------------------------------------------------------------------
register("s6_value_definition", "What value means, and the value creation process",
         "Agree what value means to each partner and establish the value creation process.", [
             textarea("value_meaning_ours", "Value for us", "What our organisation counts as value."),
             textarea("value_meaning_partner", "Value for the partner", "What the partner counts as value."),
             textarea("value_process", "Value creation process", "How ideas are raised, assessed, approved, "
                      "delivered and reviewed."),
             choice("value_review_frequency", "Process review", "How often the process itself is reviewed.",
                    FREQUENCY),
         ])

register("s6_improvement", "Improvement teams and areas for improvement",
         "Set up improvement teams with targets and timescales, and identify areas to improve.", [
             rows("improvement_teams", "Improvement teams", "Teams or focus groups.",
                  [text("team", "Team", "The team's name."),
                   textarea("focus", "Focus", "What it works on."),
                   text("members", "Members", "Who is in it."),
                   text("target", "Target", "What it must achieve."),
                   date("timescale", "By when", "Its deadline.")],
                  item_title="Team"),
             rows("improvement_areas", "Issues and areas for improvement", "What should be improved.",
                  [text("area", "Area", "The issue or area."),
                   choice("priority", "Priority", "How urgent.", [("low", "Low"), ("medium", "Medium"),
                                                                   ("high", "High")]),
                   text("owner", "Owner", "Who takes it forward.")],
                  item_title="Area"),
         ])

register("s6_learning", "Learning from experience",
         "Set up a process to learn from experience and spread the lessons.", [
             textarea("lessons_process", "Lessons process", "How lessons are captured and shared across both "
                      "organisations."),
             rows("lessons_learned", "Lessons learned", "Lessons recorded so far.",
                  [text("lesson", "Lesson", "What was learned."),
                   text("source", "Source", "Where it came from."),
                   textarea("action", "Action", "What changes because of it."),
                   text("shared_with", "Shared with", "Who it was passed on to.")],
                  required=False, min_items=0, item_title="Lesson"),
         ])

register("s6_value_register", "Value register",
         "Collect ideas and innovations, each with a cost-benefit analysis and a status.", [
             rows("value_register", "Value register", "One row per idea.",
                  [text("idea", "Idea", "The idea or innovation."),
                   text("proposed_by", "Proposed by", "Who proposed it."),
                   number("cost", "Cost", "Estimated cost.", minimum=0),
                   number("benefit", "Benefit", "Estimated benefit.", minimum=0),
                   choice("status", "Status", "Where it stands.",
                          [("proposed", "Proposed"), ("approved", "Approved"), ("in_progress", "In progress"),
                           ("realised", "Realised"), ("rejected", "Rejected")]),
                   number("realised_value", "Realised value", "Value actually realised so far.", minimum=0,
                          required=False)],
                  item_title="Idea"),
         ])

register("s6_jrmp_update", "Update the joint plan (Value creation)", "Record the value programme in the JRMP.",
         rmp_fields("JRMP", "Value creation"))

register_gate("s6_ser_gate", "Value creation", _BOTH + "Approve the value creation programme.")
register_gate("s6_partner_ser_gate", "Value creation", _BOTH + "Approve the value creation programme.",
              partner=True)

# --------------------------------------------------------------------------------------------
# Stage 7: Staying together
# --------------------------------------------------------------------------------------------
register("s7_manage_activities", "Manage joint activities and delivery",
         "Manage joint activities against the objectives and governance, and check each party delivers.", [
             rows("joint_activities", "Joint activities", "The status of each joint activity.",
                  [text("activity", "Activity", "The activity."),
                   text("objective", "Objective served", "Which joint objective it serves."),
                   choice("status", "Status", "Red, amber or green.", RAG),
                   textarea("notes", "Notes", "What is happening.", required=False)],
                  item_title="Activity"),
             rows("party_performance", "Delivery by each party", "Whether each party delivers what it agreed.",
                  [choice("party", "Party", "Which organisation.", ORG[:2]),
                   text("commitment", "Commitment", "What it agreed to deliver."),
                   choice("delivered", "Delivered", "How far it delivered.",
                          [("met", "Met"), ("partly_met", "Partly met"), ("not_met", "Not met")]),
                   textarea("evidence_note", "Evidence", "What shows it.")],
                  item_title="Commitment"),
         ])

register("s7_monitoring", "Performance monitoring arrangements",
         "Set how performance, value creation, behaviours and trust are monitored between the periodic reviews.", [
             textarea("monitoring_arrangements", "Monitoring arrangements", "What is measured continuously, "
                      "from which sources, and who looks at it."),
             textarea("value_monitoring", "Value and innovation monitoring", "How value creation and continual "
                      "innovation are tracked (the value register)."),
             textarea("behaviour_trust_monitoring", "Behaviour and trust", "How issues of behaviour and trust "
                      "are noticed and raised, e.g. relationship health surveys."),
         ])

register("s7_issue_process", "Issue resolution process",
         "Keep the issue resolution process: resolve at the lowest level, escalate when that fails. The time "
         "limits below are used for every issue raised.", [
             textarea("issue_process", "Process", "How issues are raised, logged and resolved."),
             text("l1_limit", "Level 1 time limit", "How long the operational team has before an issue escalates, "
                  "as an ISO 8601 duration (P5D = five days).", pattern=ISO_DURATION),
             text("l2_limit", "Level 2 time limit", "Time for the joint management team, e.g. P10D.",
                  pattern=ISO_DURATION),
             text("l3_limit", "Level 3 time limit", "Time for both SERs, e.g. P15D. Unresolved after that, the "
                  "issue becomes an exit-trigger review.", pattern=ISO_DURATION),
         ])

register("s7_exit_strategy", "Maintain the joint exit strategy",
         "Review and maintain the joint exit strategy and its triggers.", [
             exit_strategy_field("The joint exit strategy, kept current while the relationship runs."),
             exit_triggers_field(),
             date("exit_strategy_reviewed_on", "Reviewed on", "Date of this review."),
         ])

register("s7_jrmp_update", "Update the joint plan (Staying together)", "Record this management cycle in the JRMP.",
         rmp_fields("JRMP", "Staying together"))

_S7 = dict(approve_label="Approve: the relationship has run its course, move to exit (stage 8)",
           rework_label="Continue: run another management cycle (reopens the stage 7 tasks)")
register_gate("s7_ser_gate", "Staying together", _BOTH + "Decide whether the relationship has run its course.",
              **_S7)
register_gate("s7_partner_ser_gate", "Staying together", _BOTH + "Decide whether the relationship has run its "
              "course.", partner=True, **_S7)

# --------------------------------------------------------------------------------------------
# Stage 8: Exit strategy
# --------------------------------------------------------------------------------------------
register("s8_finalise_exit_strategy", "Finalise the joint exit strategy",
         "Finalise the exit strategy with the stakeholders in mind, and evaluate what has changed.", [
             exit_strategy_field("The final joint exit strategy that will be carried out."),
             rows("exit_stakeholders", "Stakeholders", "Internal and external stakeholders affected by the exit.",
                  [text("stakeholder", "Stakeholder", "Who."),
                   choice("kind", "Internal or external", "Whether they are inside either organisation.",
                          [("internal", "Internal"), ("external", "External")]),
                   textarea("impact", "Impact", "How the exit affects them."),
                   text("communication", "Communication", "How and when they are told.")],
                  item_title="Stakeholder"),
             rows("environment_changes", "Changes and their impact", "Changes in the organisations, the business "
                  "environment, performance and the market.",
                  [choice("area", "Area", "Where the change happened.",
                          [("organisation", "Organisations"), ("business_environment", "Business environment"),
                           ("performance", "Performance"), ("market", "Market")]),
                   textarea("change", "Change", "What changed."),
                   textarea("impact", "Impact", "What it means for the exit.")],
                  item_title="Change"),
         ])

register("s8_boundaries", "Boundaries after the relationship ends",
         "Set the boundaries of the relationship and the areas of potential conflict after it ends.", [
             rows("post_exit_boundaries", "Boundaries", "What each party may and may not do afterwards.",
                  [choice("area", "Area", "The area concerned.",
                          [("competition", "Competition"), ("intellectual_property", "Intellectual property"),
                           ("value_created", "Value created together"), ("confidentiality", "Confidentiality"),
                           ("staff", "Staff"), ("customers", "Customers"), ("other", "Other")]),
                   textarea("boundary", "Boundary", "What is agreed."),
                   choice("conflict_risk", "Conflict risk", "How likely a dispute is here.",
                          [("low", "Low"), ("medium", "Medium"), ("high", "High")])],
                  item_title="Boundary"),
         ])

_AUTH = [("authorise", "Authorise disengagement"), ("revise", "Revise the exit plans first")]
register("s8_ser_authorise", "SER authorisation to disengage",
         "Our SER authorises initiating disengagement, with named responsibilities.", [
             choice("authorisation", "Decision", "Both SERs must authorise; revise reopens the exit work.", _AUTH,
                    widget="radio"),
             rows("disengagement_responsibilities", "Named responsibilities", "Who is responsible for what "
                  "during disengagement, in our organisation.",
                  [text("responsibility", "Responsibility", "The task."),
                   text("person", "Person", "Who is responsible.")],
                  item_title="Responsibility"),
             textarea("authorisation_comments", "Comments", "Mandatory when asking for revision.", required=False),
         ], [require_if("authorisation", ["revise"], ["authorisation_comments"])])

register("s8_partner_ser_authorise", "Partner SER authorisation to disengage",
         "The partner's SER authorises initiating disengagement, with named responsibilities.", [
             choice("partner_authorisation", "Decision", "Both SERs must authorise; revise reopens the exit work.",
                    _AUTH, widget="radio"),
             rows("partner_disengagement_responsibilities", "Named responsibilities", "Who is responsible for "
                  "what during disengagement, in the partner organisation.",
                  [text("responsibility", "Responsibility", "The task."),
                   text("person", "Person", "Who is responsible.")],
                  item_title="Responsibility"),
             textarea("partner_authorisation_comments", "Comments", "Mandatory when asking for revision.",
                      required=False),
         ], [require_if("partner_authorisation", ["revise"], ["partner_authorisation_comments"])])


def continuity_fields(mandatory):
    why = ("Mandatory: this is a premature exit, so customers and operations must be protected."
           if mandatory else "Required only for a premature exit; fill it in where it helps.")
    return [
        textarea("continuity_plan", "Business continuity and transition plan", "How services continue and are "
                 "handed over while the partners disengage. " + why, required=mandatory),
        rows("transition_actions", "Transition actions", "The steps of the hand-over.",
             [text("action", "Action", "What is done."),
              choice("organisation", "Organisation", "Which party does it.", ORG),
              text("owner", "Owner", "Who is responsible."),
              date("due", "Due", "When."),
              choice("status", "Status", "Where it stands.", ACTION_STATUS)],
             required=mandatory, min_items=1 if mandatory else 0, item_title="Transition action"),
        textarea("customers_affected", "Customers and services affected", "Who is affected and how they are "
                 "protected.", required=mandatory),
        evidence("continuity_evidence", "Plan document", "The signed continuity and transition plan.",
                 required=mandatory),
    ]


register("s8_continuity_plan", "Business continuity and transition",
         "Carry out the continuity and transition plan for an orderly end of the relationship.",
         continuity_fields(False))
register("s8_continuity_plan_premature", "Business continuity and transition (premature exit)",
         "The relationship is ending early: the continuity and transition plan is mandatory.",
         [textarea("exit_reason", "Why the relationship ends early", "The exit trigger and the SERs' decision "
                   "(filled from the exit review).", read_only=True, required=False),
          *continuity_fields(True)])

register("s8_final_assessment", "Final assessment and joint message",
         "Assess whether the joint objectives were achieved, agree a joint message, and consider the future.", [
             rows("objectives_achievement", "Objectives achieved?", "One row per joint objective.",
                  [text("objective", "Objective", "The joint objective."),
                   choice("achieved", "Achieved", "How far it was achieved.",
                          [("achieved", "Achieved"), ("partly", "Partly achieved"),
                           ("not_achieved", "Not achieved")]),
                   textarea("evidence_note", "Evidence", "What shows it.")],
                  item_title="Objective"),
             textarea("joint_market_message", "Joint message to the market", "The message both parties agreed "
                      "to give customers and the market."),
             date("message_release_date", "Release date", "When the message goes out."),
             rows("future_opportunities", "Future joint opportunities", "Opportunities to work together again.",
                  [text("opportunity", "Opportunity", "What."),
                   textarea("notes", "Notes", "Conditions or timing.", required=False)],
                  required=False, min_items=0, item_title="Opportunity"),
         ])

register("s8_close_jrmp", "Close the joint Relationship Management Plan", "Close and archive the JRMP.", [
    date("rmp_closed_on", "Closed on", "The date the plan is closed."),
    textarea("rmp_closure_summary", "Closure summary", "The final state of the relationship and the plan."),
    evidence("rmp_archive", "Archived plan", "The final version of the plan.", required=True),
])

register_gate("s8_ser_gate", "Exit strategy", _BOTH + "Approve the completed exit: continuity, final assessment "
              "and the closed plan.", approve_label="Approve: the relationship is closed")
register_gate("s8_partner_ser_gate", "Exit strategy", _BOTH + "Approve the completed exit.", partner=True,
              approve_label="Approve: the relationship is closed")

# --------------------------------------------------------------------------------------------
# Exit trigger review (relationship_running)
# --------------------------------------------------------------------------------------------
register("exit_review", "Exit trigger review",
         "An exit trigger was raised. Decide, with the partner's SER, whether to dismiss it (the relationship "
         "continues exactly where it was) or to invoke exit (the current stage stops and stage 8 runs as a "
         "premature exit).", [
             obj("exit_info", "Trigger raised", "What raised the trigger (filled in automatically).", [
                 textarea("reason", "Reason", "Why the trigger was raised.", read_only=True),
                 choice("source", "Source", "Who or what raised it.",
                        [("person", "A person"), ("escalation", "A failed issue escalation"),
                         ("performance", "Repeated red performance reviews")], read_only=True),
             ], required=False),
             choice("exit_decision", "Decision", "Dismiss keeps the relationship going; invoke starts the exit.",
                    [("dismiss", "Dismiss the trigger"), ("invoke", "Invoke exit")], widget="radio"),
             textarea("exit_rationale", "Rationale", "Why: this is the record an assessor will read."),
             choice("partner_ser_position", "Partner SER's position", "Whether the partner's SER agrees.",
                    [("agrees", "Agrees"), ("disagrees", "Disagrees"), ("not_consulted", "Not consulted")]),
         ])

# --------------------------------------------------------------------------------------------
# Issue resolution
# --------------------------------------------------------------------------------------------
register("ir_log_issue", "Log the issue", "Record the issue so it can be worked at the lowest level first.", [
    text("issue_title", "Issue", "A short title."),
    textarea("issue_description", "Description", "What happened, where, and its effect."),
    choice("issue_category", "Category", "The kind of issue.",
           [("performance", "Performance"), ("behaviour", "Behaviour or trust"), ("commercial", "Commercial"),
            ("delivery", "Delivery"), ("knowledge", "Knowledge or information"), ("other", "Other")]),
    choice("issue_impact", "Impact", "How serious it is.",
           [("low", "Low"), ("medium", "Medium"), ("high", "High"), ("critical", "Critical")]),
    text("raised_by", "Raised by", "Who raised the issue."),
    date("raised_on", "Raised on", "When it was raised."),
    evidence("issue_evidence", "Evidence", "Supporting documents, if any."),
])


def level_fields(level, who):
    p = f"l{level}_"
    return [
        textarea(p + "actions", "Actions taken", f"What the {who} did to resolve the issue."),
        choice(p + "resolution", "Resolution", "Resolved closes the issue; escalate passes it to the next level.",
               [("resolved", "Resolved"), ("escalate", "Escalate")], widget="radio"),
        textarea(p + "resolution_summary", "How it was resolved", "Mandatory when resolved.", required=False),
        textarea(p + "escalation_reason", "Why it is escalated", "Mandatory when escalating.", required=False),
    ], [require_if(p + "resolution", ["resolved"], [p + "resolution_summary"]),
        require_if(p + "resolution", ["escalate"], [p + "escalation_reason"])]


_f, _c = level_fields(1, "operational team")
register("ir_level1", "Resolve the issue (level 1: operational team)",
         "Work the issue at the lowest level. If it is not resolved within the level 1 time limit it escalates "
         "automatically.", _f, _c)
_f, _c = level_fields(2, "joint management team")
register("ir_level2", "Resolve the issue (level 2: joint management team)",
         "The operational team could not resolve the issue. If it is not resolved within the level 2 time limit "
         "it escalates to both SERs.", _f, _c)


def l3_fields(prefix, who):
    return [
        textarea(prefix + "position", "Position", f"The view of {who} on the issue and on how to resolve it."),
        choice(prefix + "resolution", "Resolution", "The issue is resolved only if both SERs say so; otherwise it "
               "becomes an exit-trigger review.", [("resolved", "Resolved"), ("escalate", "Cannot resolve")],
               widget="radio"),
        textarea(prefix + "resolution_summary", "How it was resolved", "Mandatory when resolved.", required=False),
    ], [require_if(prefix + "resolution", ["resolved"], [prefix + "resolution_summary"])]


_f, _c = l3_fields("l3_", "our SER")
register("ir_level3_ser", "Resolve the issue (level 3: our SER)",
         "Escalation is a last resort: both SERs work the issue together.", _f, _c)
_f, _c = l3_fields("l3_partner_", "the partner's SER")
register("ir_level3_partner_ser", "Resolve the issue (level 3: partner SER)",
         "Escalation is a last resort: both SERs work the issue together.", _f, _c)

# --------------------------------------------------------------------------------------------
# Periodic reviews
# --------------------------------------------------------------------------------------------
def review_findings(name="review_findings"):
    return action_rows(name, "Findings and actions", "What the review found and what will be done.",
                       extra=(textarea("finding", "Finding", "What was found."),))


register("pr_management_system_review", "SER review of the management system (R.S3)",
         "Review the collaborative management system for suitability and effectiveness, and the internal "
         "constraints found in stage 3.", [
             date("review_date", "Review date", "When the review took place."),
             boolean("ms_suitable", "Still suitable", "Tick if the management system still suits the "
                     "organisation's collaborative relationships."),
             boolean("ms_effective", "Effective", "Tick if it works as intended."),
             textarea("internal_constraints_update", "Internal constraints", "Changes in the strengths, weaknesses "
                      "and blockers assessed in stage 3."),
             review_findings(),
             evidence("review_minutes", "Minutes", "Minutes or report of the review."),
         ])

register("pr_internal_audit", "Internal audit of collaborative processes (R.S5)",
         "Audit the collaborative processes against the standard and the agreed procedures.", [
             date("audit_date", "Audit date", "When the audit took place."),
             text("auditor", "Auditor", "Who audited; independent of the work audited."),
             textarea("audit_scope", "Scope", "What was audited."),
             rows("audit_findings", "Findings", "Non-conformities and observations.",
                  [textarea("finding", "Finding", "What was found."),
                   choice("severity", "Severity", "How serious.",
                          [("observation", "Observation"), ("minor", "Minor non-conformity"),
                           ("major", "Major non-conformity")]),
                   textarea("corrective_action", "Corrective action", "What will be done."),
                   text("owner", "Owner", "Who does it."),
                   date("due", "Due", "By when.")],
                  required=False, min_items=0, item_title="Finding"),
             boolean("processes_effective", "Processes effective", "Tick if the audited processes are effective."),
             evidence("audit_report", "Audit report", "The audit report.", required=True),
         ])


def rating(dim_title, desc):
    return obj(dim_title[0], dim_title[1], desc, [
        choice("rating", "Rating", "Red, amber or green.", RAG, widget="radio"),
        textarea("evidence", "Evidence", "The facts behind the rating."),
        evidence("evidence_file", "Evidence file", "A supporting document, if any."),
    ])


register("pr_performance_review", "Performance review of the relationship (R.S7)",
         "Rate the relationship's performance on outputs, risk, alignment, behaviours and trust, with evidence.", [
             obj("performance_ratings", "Ratings", "One rating per dimension, each with its evidence.", [
                 rating(("outputs", "Outputs"), "Delivery against the agreed objectives and measures."),
                 rating(("risk", "Risk"), "How well joint risks are controlled."),
                 rating(("alignment", "Alignment"), "Whether the partners still pursue the same objectives."),
                 rating(("behaviours", "Behaviours"), "Whether people behave as the core principles say."),
                 rating(("trust", "Trust"), "The level of trust between the organisations."),
             ]),
             textarea("value_creation_review", "Value creation and innovation", "Progress of the value register "
                      "and continual innovation since the last review."),
             choice("overall_rating", "Overall rating (proposed)", "The joint management team's overall view; the "
                    "SER confirms it. Two red reviews in a row raise an exit trigger.", RAG, widget="radio"),
         ])

register("pr_ser_performance_feedback", "SER performance review and feedback (R.S7)",
         "Review the joint management team's ratings, confirm the overall rating and give feedback and "
         "corrective actions.", [
             choice("overall_rating", "Overall rating", "The confirmed overall rating. Two red reviews in a row "
                    "raise an exit trigger.", RAG, widget="radio"),
             textarea("ser_feedback", "Feedback to the team", "The SER's feedback on the monitoring, measurement "
                      "and performance."),
             rows("corrective_actions", "Corrective actions", "Actions the team must take.",
                  [text("action", "Action", "What must be done."),
                   text("owner", "Owner", "Who does it."),
                   date("deadline", "Deadline", "By when.")],
                  required=False, min_items=0, item_title="Action"),
         ])

register("pr_exit_strategy_review", "Review of the joint exit strategy (R.EX)",
         "Review and maintain the joint exit strategy and its triggers.", [
             exit_strategy_field("The joint exit strategy, updated if needed."),
             exit_triggers_field(),
             boolean("exit_strategy_still_valid", "Still valid", "Tick if the strategy still fits the "
                     "relationship as it is today."),
             textarea("exit_review_notes", "Review notes", "What changed and why."),
         ])

register("pr_risk_register_review", "Review of the joint risk register (R.RK)",
         "Review every joint risk: is it still current, is the owner right, is the mitigation working?", [
             risks_field("Joint risk register", "The joint risk register; update ratings, owners, mitigations and "
                         "review dates.", joint=True),
             textarea("risk_review_summary", "Summary", "The main changes and any risk needing SER attention."),
         ])
