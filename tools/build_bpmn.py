"""Generate the collabflow BPMN diagrams, their forms and docs/requirements-map.md.

    python tools/build_bpmn.py            # (re)write bpmn/*.bpmn, forms/*.json, docs/requirements-map.md
    python tools/build_bpmn.py --map      # only regenerate docs/requirements-map.md from bpmn/

The files in bpmn/ and forms/ are the source of truth once generated (process owners edit them
in a modeler); this script exists to make the first version consistent: ids, lanes, forms,
requirement properties and a readable left-to-right layout with complete BPMNDI.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bpmn_builder import Process  # noqa: E402
from forms_catalog import FORMS  # noqa: E402
from requirements_map import render_map  # noqa: E402

ROOT = HERE.parent
BPMN_DIR = ROOT / "bpmn"
FORMS_DIR = ROOT / "forms"
MAP_FILE = ROOT / "docs" / "requirements-map.md"

STAFF, SER, JMT, PSER = "Staff", "SER", "Joint management team", "Partner SER"
REVIEW_DEFAULTS = {"R.S3": "P6M", "R.S5": "P6M", "R.S7": "P3M", "R.EX": "P12M", "R.RK": "P3M"}
REVIEW_DUE_IN = "P14D"  # a review that fell due is to be done within two weeks (then it shows as overdue)
REVIEW_TITLES = {  # requirements.yaml periodic_reviews `what`: the title people see in calendars
    "R.S3": "SER review of the management system", "R.S5": "Internal audit of collaborative processes",
    "R.S7": "SER performance review of the relationship", "R.EX": "Review of the joint exit strategy",
    "R.RK": "Review of the joint risk register"}
ESCALATION_DEFAULTS = {"l1_limit": "P5D", "l2_limit": "P10D", "l3_limit": "P15D"}
PHASE = {1: "strategic", 2: "strategic", 3: "strategic", 4: "engagement", 5: "engagement", 6: "engagement",
         7: "management", 8: "management"}
STAGE_NAMES = {1: "Awareness", 2: "Knowledge", 3: "Internal assessment", 4: "Partner selection",
               5: "Working together", 6: "Value creation", 7: "Staying together", 8: "Exit strategy"}
STAGE_IDS = {1: "stage1_awareness", 2: "stage2_knowledge", 3: "stage3_internal_assessment",
             4: "stage4_partner_selection", 5: "stage5_working_together", 6: "stage6_value_creation",
             7: "stage7_staying_together", 8: "stage8_exit"}


def default_if_absent(name, literal):
    """Script lines that keep `name` if the task data has it and set `literal` otherwise."""
    # `except Exception` rather than NameError: the engine's sandbox exposes only a few exception names.
    return f"try:\n    {name}\nexcept Exception:  # not in the data yet\n    {name} = {literal}\n"


def clear(*names):
    """Script lines that remove data names (set first, so `del` never fails)."""
    return "".join(f"{n} = None\n" for n in names) + f"del {', '.join(names)}\n"


def start_review(review_id, extra_keys=()):
    payload = ", ".join([
        f'"review_id": "{review_id}"',
        f'"title": "{REVIEW_TITLES[review_id]}"',
        f'"due_at": add_period(now(), review_intervals["{review_id}"])',
        f'"interval": review_intervals["{review_id}"]',
        '"sequence": 1',
        '"relationship_name": relationship_name',
        '"previous_overall": None',
        *[f'"{k}": {k}' for k in extra_keys],
    ])
    return f'start_process("periodic_review", {{{payload}}})\n'


def instructions(task_id, extra=""):
    schema = FORMS[task_id][0]
    text = f"### {schema['title']}\n\n{schema['description']}\n"
    if extra:
        text += "\n" + extra.strip() + "\n"
    return text


REWORK_NOTE = """{% if decision == "rework" %}
> **Sent back for rework by the SER:** {{ comments }}
{% endif %}{% if partner_decision is defined and partner_decision == "rework" %}
> **Sent back for rework by the partner SER:** {{ partner_comments }}
{% endif %}"""


# ---------------------------------------------------------------------------------------------
# Stages
# ---------------------------------------------------------------------------------------------
def stage(n, lanes, tasks, *, dual_gate=False, allow_stop=False, gate_requirements=(), approve_scripts=(),
          start_extra="", start_requirements=(), start_doc=None, build_work=None):
    """One stage: start script, rework merge, the work, the SER gate(s), the decision.

    `tasks` is a list of (task_id, name, lane, requirements[, extra instructions]) run in sequence;
    `build_work(p)` may add more elaborate work after them.
    """
    pid = STAGE_IDS[n]
    title = STAGE_NAMES[n]
    p = Process(pid, f"Stage {n}: {title}", lanes=lanes, documentation=(
        f"Stage {n} ({title}) of the BS 11000 / ISO 44001 lifecycle, {PHASE[n]} phase. "
        "The stage's tasks run in order; the SER gate at the end approves, sends back for rework "
        "(the work reopens with the answers already given) "
        + ("or stops the lifecycle as 'not appropriate'." if allow_stop else "or, from stage 5, both SERs must approve.")))
    p.start(f"s{n}_start_event", f"Stage {n} starts")
    p.script(f"s{n}_start", f"Start stage {n}: {title}",
             f"current_stage = {n}\ncurrent_phase = \"{PHASE[n]}\"\nstage_started_at = now()\n"
             "# The previous stage's gate answers must not pre-fill this stage's gate.\n"
             + clear("decision", "comments", "partner_decision", "partner_comments") + start_extra,
             requirements=start_requirements, documentation=start_doc)
    work = p.xgw(f"s{n}_work", "Stage work (re)opens")
    for t in tasks:
        tid, name, lane, reqs = t[:4]
        extra = t[4] if len(t) > 4 else ""
        p.user(tid, name, lane=lane, requirements=reqs, instructions=instructions(tid, extra + REWORK_NOTE))
    if build_work:
        build_work(p, work)

    gate_props = {"approvalGate": "true", "gateStage": str(n)}
    if not dual_gate:
        p.script(f"s{n}_prepare_gate", "Open the SER approval",
                 "# The gate opens blank: a pre-filled 'rework' from the last round could be resubmitted by\n"
                 "# mistake. The work tasks have already shown the comments; gate_history keeps them.\n"
                 + clear("decision", "comments"), lane=SER)
        p.user(f"s{n}_ser_gate", f"SER approves stage {n}", lane=SER, requirements=gate_requirements,
               props=gate_props, instructions=instructions(f"s{n}_ser_gate"))
        p.script(f"s{n}_record_gate", "Record the SER decision",
                 default_if_absent("comments", '""') +
                 f'gate_history = gate_history + [{{"stage": {n}, "decision": decision, "comments": comments, '
                 f'"at": now()}}]\n', lane=SER)
        approve = 'decision == "approve"'
    else:
        p.script(f"s{n}_prepare_gate", "Open the joint approval",
                 "# Parallel branches merge their data at the join: a value left over from an earlier round in\n"
                 "# one branch would overwrite the fresh answer from the other, so clear both answers first.\n"
                 + clear("decision", "comments", "partner_decision", "partner_comments"), lane=SER)
        split = p.pgw(f"s{n}_gate_split", "Both SERs decide", lane=SER)
        p.user(f"s{n}_ser_gate", f"SER approves stage {n}", lane=SER, requirements=gate_requirements,
               props=gate_props, instructions=instructions(f"s{n}_ser_gate"))
        join = p.pgw(f"s{n}_gate_join", "Both decided", lane=SER)
        p.at(split, PSER).user(f"s{n}_partner_ser_gate", f"Partner SER approves stage {n}", lane=PSER,
                               requirements=gate_requirements, props=gate_props,
                               instructions=instructions(f"s{n}_partner_ser_gate"))
        p.flow(f"s{n}_partner_ser_gate", join)
        p.at(join, SER).script(
            f"s{n}_record_gate", "Record both SER decisions",
            default_if_absent("comments", '""') + default_if_absent("partner_comments", '""') +
            f'gate_history = gate_history + [{{"stage": {n}, "decision": decision, "comments": comments, '
            '"partner_decision": partner_decision, "partner_comments": partner_comments, "at": now()}]\n')
        approve = 'decision == "approve" and partner_decision == "approve"'
    decide = p.xgw(f"s{n}_gate_decision", "Approved?")
    p.at(decide)
    first = True
    for sid, sname, script, reqs in approve_scripts:
        p.script(sid, sname, script, requirements=reqs,
                 **({"flow_name": "approve", "condition": approve} if first else {}))
        first = False
    p.end(f"s{n}_end", f"Stage {n} approved", **({"flow_name": "approve", "condition": approve} if first else {}))
    if allow_stop:
        p.at(decide).script(f"s{n}_not_appropriate", "Record: collaboration not appropriate",
                            'outcome = "not_appropriate"\nended_at = now()\n',
                            flow_name="stop", condition='decision == "stop"')
        p.end(f"s{n}_end_not_appropriate", "Stays transactional")
    p.flow(decide, work, name="rework", default=True)
    return p


def stage1():
    return stage(1, [STAFF, SER], [
        ("s1_appoint_ser", "Appoint the SER", SER, ["S1.01"]),
        ("s1_policy", "Write the collaborative working policy", STAFF, ["S1.02"]),
        ("s1_objectives_value", "Identify objectives and value of collaboration", STAFF, ["S1.03", "S1.04"]),
        ("s1_relationships", "List, segment and prioritise relationships", STAFF, ["S1.05"]),
        ("s1_policy_review", "Review policies and procedures", STAFF, ["S1.06"]),
        ("s1_competencies", "Define competencies, behaviours and key roles", STAFF, ["S1.07"]),
        ("s1_initial_risks", "Assess initial risks against benefits", STAFF, ["S1.08"]),
        ("s1_management_system", "Describe the management system and scope", STAFF, ["S1.09"]),
        ("s1_crmp", "Start the corporate RMP (CRMP)", STAFF, ["S1.10"]),
    ], gate_requirements=["S1.G"])


def stage2():
    return stage(2, [STAFF, SER], [
        ("s2_opportunity", "Set the opportunity's objectives and key drivers", STAFF, ["S2.01", "S2.06"]),
        ("s2_people_skills", "Identify people, skills and authority", STAFF, ["S2.02"]),
        ("s2_knowledge", "Set up knowledge management and sharing rules", STAFF, ["S2.03", "S2.04"]),
        ("s2_business_case", "Develop the business case and market analysis", STAFF, ["S2.05", "S2.07", "S2.08"]),
        ("s2_potential_partners", "Identify potential partners", STAFF, ["S2.09"]),
        ("s2_exit_assessment", "Make the initial exit assessment", STAFF, ["S2.10"]),
        ("s2_risks", "Bring relationship risks into the risk process", STAFF, ["S2.11", "S2.12"]),
        ("s2_rmp_update", "Review the implementation plan, update the RMP", STAFF, ["S2.13"]),
    ], allow_stop=True, gate_requirements=["S2.01", "S2.G"])


def stage3():
    return stage(3, [STAFF, SER], [
        ("s3_internal_assessment", "Assess internal constraints and strengths", STAFF, ["S3.01"]),
        ("s3_collaborative_profile", "Establish the collaborative profile", STAFF, ["S3.02"]),
        ("s3_appoint_leadership", "Appoint collaborative leadership", SER, ["S3.03"]),
        ("s3_selection_criteria", "Define weighted partner selection criteria", STAFF, ["S3.04"]),
        ("s3_skills_gaps", "Run the collaborative skills gap analysis", STAFF, ["S3.05"]),
        ("s3_action_plan", "Write the internal action plan", STAFF, ["S3.06"]),
        ("s3_rmp_update", "Update the RMP with the internal assessment", STAFF, ["S3.08"]),
    ], gate_requirements=["S3.G", "S3.07"], approve_scripts=[
        ("s3_schedule_reviews", "Schedule the SER management system review (R.S3)",
         "# The first review is due one interval from now; each review schedules the next (periodic_review).\n"
         + start_review("R.S3") + 'reviews_scheduled = ["R.S3"]\n', ["S3.07"]),
    ])


CANDIDATE_INSTRUCTIONS = """
**Candidate:** {{ candidate.name }} ({{ candidate.country }})

Score it on each selection criterion (0-10):
{% for c in selection_criteria %}- **{{ c.criterion }}** (weight {{ c.weight }}): {{ c.how_assessed }}
{% endfor %}
"""

SELECT_INSTRUCTIONS = """
**Weighted ranking** (0-10, weights from stage 3):
{% for r in candidate_ranking %}{{ loop.index }}. {{ r.name }}: {{ r.weighted_score }} ({{ r.recommendation }})
{% endfor %}
"""

SCORE_SCRIPT = """
# Weighted score per candidate on the stage 3 criteria (0-10 scale, one decimal).
weights = {c["criterion"]: c["weight"] for c in selection_criteria}
total_weight = sum(weights.values())
for cand in candidates:
    scored = {s["criterion"]: s["score"] for s in cand.get("scores", [])}
    cand["weighted_score"] = round(sum(weights[k] * scored.get(k, 0) for k in weights) * 10 / total_weight) / 10
    cand["unscored_criteria"] = [k for k in weights if k not in scored]
candidate_ranking = sorted(
    [{"name": c["name"], "weighted_score": c["weighted_score"], "recommendation": c.get("recommendation", ""),
      "unscored_criteria": c["unscored_criteria"]} for c in candidates],
    key=lambda r: r["weighted_score"], reverse=True)
del weights, total_weight, cand, scored
"""


def stage4():
    def work(p, merge):
        p.user("s4_nominate_candidates", "Nominate candidate partners", lane=STAFF, requirements=["S4.01"],
               instructions=instructions("s4_nominate_candidates", REWORK_NOTE + """
{% if approach_decision is defined and approach_decision == "revise" %}
> **The SER asked for a revised nomination:** {{ approach_comments }}
{% endif %}"""))
        p.script("s4_prepare_approach", "Open the SER agreement", "# The agreement form opens blank.\n"
                 + clear("approach_decision", "approach_comments"), lane=SER)
        p.user("s4_ser_agree_approach", "SER agrees before candidates are approached", lane=SER,
               requirements=["S4.01"], instructions=instructions("s4_ser_agree_approach", """
{% for c in candidates %}- **{{ c.name }}** ({{ c.country }}): {{ c.nomination_rationale }}
{% endfor %}"""))
        agreed = p.xgw("s4_approach_agreed", "Agreed?")
        p.flow(agreed, merge, name="revise", default=True)
        p.at(agreed).user(
            "s4_evaluate_candidate", "Evaluate each candidate", lane=STAFF, requirements=["S4.02"],
            flow_name="agree", condition='approach_decision == "agree"',
            instructions=instructions("s4_evaluate_candidate", CANDIDATE_INSTRUCTIONS),
            documentation="Parallel multi-instance over `candidates`: one task per candidate. Each instance "
                          "edits its `candidate` item; the post-script hands it back as `evaluation`, which "
                          "replaces the candidate in the list (in place), so a rework reopens each evaluation "
                          "with its earlier scores.",
            multi_instance={"input": "candidates", "output": "candidates", "input_item": "candidate",
                            "output_item": "evaluation", "scripts_on_instances": True},
            post_script="evaluation = candidate")
        p.script("s4_score_candidates", "Compute weighted scores and ranking", SCORE_SCRIPT, requirements=["S4.02"])
        p.user("s4_action_plans", "Write partner selection action plans", lane=STAFF, requirements=["S4.03"],
               instructions=instructions("s4_action_plans", REWORK_NOTE))
        p.user("s4_joint_objectives", "Appraise objectives, draft joint objectives", lane=STAFF,
               requirements=["S4.04"], instructions=instructions("s4_joint_objectives", REWORK_NOTE))
        p.user("s4_negotiation_strategy", "Set the negotiation strategy", lane=STAFF, requirements=["S4.05"],
               instructions=instructions("s4_negotiation_strategy", REWORK_NOTE))
        p.user("s4_select_partner", "Select the partner, conclude the agreement", lane=SER,
               requirements=["S4.06"], instructions=instructions("s4_select_partner", SELECT_INSTRUCTIONS))
        p.user("s4_exit_triggers", "Update the exit strategy with triggers", lane=STAFF, requirements=["S4.07"],
               instructions=instructions("s4_exit_triggers", REWORK_NOTE))
        p.user("s4_rmp_update", "Write the PRMP", lane=STAFF, requirements=["S4.08"],
               instructions=instructions("s4_rmp_update", REWORK_NOTE))

    return stage(4, [STAFF, SER], [], gate_requirements=["S4.06"], build_work=work)


def stage5():
    return stage(5, [JMT, STAFF, SER, PSER], [
        ("s5_identify_sers", "Identify the SER of each organisation", JMT, ["S5.01"]),
        ("s5_principles_governance", "Agree principles and governance", JMT, ["S5.02"]),
        ("s5_joint_leadership", "Appoint joint leadership and the JMT", JMT, ["S5.03", "S5.04"]),
        ("s5_measures_roles", "Define measures, roles and responsibilities", JMT, ["S5.05", "S5.06"]),
        ("s5_knowledge_comms", "Agree knowledge sharing and communications", JMT, ["S5.07", "S5.08"]),
        ("s5_joint_risks", "Agree joint risk management and register", JMT, ["S5.09"]),
        ("s5_processes_contracts", "Improve joint processes, agree contracts", JMT, ["S5.10", "S5.11"]),
        ("s5_delivery_actions", "Implement delivery plans, record actions", JMT, ["S5.12", "S5.14"]),
        ("s5_audit_programme", "Plan internal audits", STAFF, ["S5.13"]),
        ("s5_jrmp", "Create the joint RMP (JRMP)", JMT, ["S5.15"]),
    ], dual_gate=True, gate_requirements=["S5.G"], approve_scripts=[
        ("s5_schedule_reviews", "Schedule internal audits (R.S5) and risk register reviews (R.RK)",
         start_review("R.S5", ["audit_programme"]) + start_review("R.RK", ["risks"])
         + 'reviews_scheduled = reviews_scheduled + ["R.S5", "R.RK"]\n', ["S5.13", "S5.09"]),
    ])


def stage6():
    return stage(6, [JMT, SER, PSER], [
        ("s6_value_definition", "Agree what value means; value process", JMT, ["S6.01", "S6.04"]),
        ("s6_improvement", "Set up improvement teams and areas", JMT, ["S6.02", "S6.03"]),
        ("s6_learning", "Learn from experience", JMT, ["S6.05"]),
        ("s6_value_register", "Keep the value register", JMT, ["S6.06"]),
        ("s6_jrmp_update", "Update the JRMP", JMT, ["S6.07"]),
    ], dual_gate=True, gate_requirements=["S6.G"])


def stage7():
    return stage(7, [JMT, SER, PSER], [
        ("s7_manage_activities", "Manage joint activities, check delivery", JMT, ["S7.02", "S7.05"]),
        ("s7_monitoring", "Monitor performance, value, behaviour and trust", JMT, ["S7.01", "S7.03", "S7.04"]),
        ("s7_issue_process", "Keep the issue resolution process", JMT, ["S7.07"]),
        ("s7_exit_strategy", "Review and maintain the exit strategy", JMT, ["S7.08"]),
        ("s7_jrmp_update", "Update the JRMP", JMT, ["S7.09"]),
    ], dual_gate=True, start_requirements=["S7.06", "S7.08"],
        start_extra="# Recurring reviews while the relationship is managed (the stage 8 start cancels them).\n"
                    + start_review("R.S7", ["performance_measures"])
                    + start_review("R.EX", ["exit_strategy", "exit_triggers"])
                    + 'reviews_scheduled = reviews_scheduled + ["R.S7", "R.EX"]\n',
        start_doc="Starts the quarterly SER performance review (R.S7) and the exit strategy review (R.EX) "
                  "chains. A gate decision 'rework' here means 'run another management cycle'.")


def stage8():
    def work(p, merge):
        p.user("s8_finalise_exit_strategy", "Finalise the joint exit strategy", lane=JMT,
               requirements=["S8.01", "S8.03"], instructions=instructions("s8_finalise_exit_strategy", REWORK_NOTE))
        p.user("s8_boundaries", "Set boundaries after the relationship", lane=JMT, requirements=["S8.02"],
               instructions=instructions("s8_boundaries", REWORK_NOTE))
        p.script("s8_prepare_authorisation", "Open the joint authorisation",
                 clear("authorisation", "authorisation_comments", "partner_authorisation",
                       "partner_authorisation_comments"), lane=SER)
        split = p.pgw("s8_authorisation_split", "Both SERs authorise", lane=SER)
        p.user("s8_ser_authorise", "SER authorises disengagement", lane=SER, requirements=["S8.04"],
               instructions=instructions("s8_ser_authorise"))
        join = p.pgw("s8_authorisation_join", "Both decided", lane=SER)
        p.at(split, PSER).user("s8_partner_ser_authorise", "Partner SER authorises disengagement", lane=PSER,
                               requirements=["S8.04"], instructions=instructions("s8_partner_ser_authorise"))
        p.flow("s8_partner_ser_authorise", join)
        authorised = p.at(join, SER).xgw("s8_authorised", "Both authorised?")
        p.flow(authorised, merge, name="revise", default=True)
        premature = p.at(authorised, JMT).xgw(
            "s8_premature", "Premature exit?", flow_name="authorised",
            condition='authorisation == "authorise" and partner_authorisation == "authorise"')
        p.user("s8_continuity_plan", "Carry out continuity and transition", lane=JMT, requirements=["S8.05"],
               flow_name="natural end", instructions=instructions("s8_continuity_plan", REWORK_NOTE))
        p.nodes[premature].default = "Flow_s8_premature_s8_continuity_plan"
        after = p.xgw("s8_continuity_done", "Continuity handled")
        p.at(premature).user("s8_continuity_plan_premature", "Carry out continuity and transition (mandatory)",
                             lane=JMT, requirements=["S8.05"], flow_name="premature exit",
                             condition="premature_exit == True",
                             instructions=instructions("s8_continuity_plan_premature", REWORK_NOTE))
        p.flow("s8_continuity_plan_premature", after)
        p.at(after).user("s8_final_assessment", "Assess objectives, agree joint message", lane=JMT,
                         requirements=["S8.06"], instructions=instructions("s8_final_assessment", REWORK_NOTE))
        p.user("s8_close_jrmp", "Close the joint RMP", lane=JMT, requirements=["S8.07"],
               instructions=instructions("s8_close_jrmp", REWORK_NOTE))

    return stage(8, [JMT, SER, PSER], [], dual_gate=True, build_work=work,
                 start_extra="# Recurring reviews end with the relationship.\ncancel_linked(\"periodic_review\")\n",
                 start_doc="Stage 8 runs after the natural end of stage 7 or after an invoked exit trigger "
                           "(premature_exit = True, continuity plan mandatory). It cancels the review chains.")


# ---------------------------------------------------------------------------------------------
# Lifecycle and the running relationship (stages 5-7 with exit-trigger handling)
# ---------------------------------------------------------------------------------------------
LIFECYCLE_INIT = (
    "# Defaults for start data the caller may leave out; values given at start are kept.\n"
    + default_if_absent("relationship_name", '"Unnamed relationship"')
    + default_if_absent("review_intervals", "{}")
    + "merged_intervals = " + json.dumps(REVIEW_DEFAULTS) + "\n"
    + "merged_intervals.update(review_intervals)\nreview_intervals = merged_intervals\ndel merged_intervals\n"
    + "".join(default_if_absent(k, f'"{v}"') for k, v in ESCALATION_DEFAULTS.items())
    + 'gate_history = []\nreviews_scheduled = []\noutcome = "in_progress"\npremature_exit = False\n'
    + "started_at = now()\n")


def lifecycle():
    p = Process("lifecycle", "Collaborative relationship lifecycle", documentation=(
        "One instance = one collaborative relationship (BS 11000 / ISO 44001). Stages 1-4 run in sequence; "
        "stages 5-7 run inside the call activity relationship_running, which an invoked exit trigger "
        "interrupts (boundary signal exit_invoked) to go straight to stage 8 as a premature exit. "
        "Outcome in data `outcome`: completed, not_appropriate or exited_prematurely."))
    p.start("lc_start", "Relationship proposed")
    p.script("lc_init", "Initialise the relationship record", LIFECYCLE_INIT)
    for n in (1, 2):
        p.call(f"lc_stage{n}", f"Stage {n}: {STAGE_NAMES[n]}", STAGE_IDS[n], props={"phase": PHASE[n]})
    gw = p.xgw("lc_collaboration_appropriate", "Collaboration appropriate?")
    for n in (3, 4):
        p.call(f"lc_stage{n}", f"Stage {n}: {STAGE_NAMES[n]}", STAGE_IDS[n], props={"phase": PHASE[n]},
               **({"flow_name": "appropriate"} if n == 3 else {}))
    p.nodes[gw].default = "Flow_lc_collaboration_appropriate_lc_stage3"
    after4 = p.cursor
    p.at(gw).end("lc_end_not_appropriate", "Not appropriate: stays transactional", flow_name="not appropriate",
                 condition='outcome == "not_appropriate"')
    p.at(after4)
    running = p.call("lc_relationship_running", "Stages 5-7: relationship running", "relationship_running",
                     props={"phase": "engagement,management"},
                     documentation="Wraps stages 5, 6 and 7 so that an invoked exit trigger can interrupt "
                                   "whichever of them is running.")
    p.script("lc_natural_end", "Relationship has run its course", "premature_exit = False\n")
    merge = p.xgw("lc_to_exit", "To exit")
    p.call("lc_stage8", f"Stage 8: {STAGE_NAMES[8]}", STAGE_IDS[8], props={"phase": PHASE[8]})
    p.script("lc_finish", "Record the outcome",
             'outcome = "exited_prematurely" if premature_exit else "completed"\nended_at = now()\n')
    p.end("lc_end", "Relationship closed")
    p.signal("Signal_exit_invoked", "exit_invoked", variable="exit_invocation")
    b = p.boundary_signal("lc_exit_invoked", "Exit invoked", running, "Signal_exit_invoked", cancel=True,
                          documentation="Interrupting: thrown by relationship_running when the SERs invoke an "
                                        "exit trigger; cancels stages 5-7 wherever they are. The cancelled "
                                        "stages' data does not come back (SpiffWorkflow copies a call "
                                        "activity's data out only when it completes), so stage 8 sees the data "
                                        "as it entered stage 5 plus exit_invocation (trigger, rationale, "
                                        "decision time); the forms of stage 8 are filled in from there.")
    p.at(b).script("lc_premature", "Premature exit",
                   'premature_exit = True\nexit_reason = exit_invocation["rationale"]\n')
    p.flow("lc_premature", merge)
    p.group("Group_strategic", "Strategic phase (stages 1-3)", ["lc_stage1", "lc_stage2", "lc_stage3"])
    p.group("Group_engagement", "Engagement phase (stage 4; 5-6 inside the running relationship)", ["lc_stage4"])
    p.group("Group_management", "Management phase (stage 8; 7 inside the running relationship)", ["lc_stage8"])
    return p


def relationship_running():
    p = Process("relationship_running", "Relationship running: stages 5-7 and exit triggers", lanes=[JMT, SER],
                documentation=(
                    "Stages 5-7 run on one branch. The other branch waits for the signal exit_trigger (raised "
                    "by a person through the app, by a failed issue escalation, or by two consecutive red "
                    "performance reviews), asks the SER to review it and loops back to wait again when the "
                    "trigger is dismissed, so the stage branch is never touched. When the SER invokes exit, "
                    "the signal exit_invoked is thrown; the interrupting boundary event on the call activity "
                    "in lifecycle catches it, which cancels this whole process (both branches, including the "
                    "running stage) and continues with stage 8. "
                    "Why not a non-interrupting boundary signal on the wrapper: in SpiffWorkflow 3.2.0 such a "
                    "boundary event fires once and is not re-armed (only cycle timers are), so a second trigger "
                    "after a dismissal would be refused ('This process is not waiting for exit_trigger'). "
                    "The natural end of stage 7 reaches a terminate end event, which ends the watching branch. "
                    "While an exit review is open no second trigger can be caught (send_event raises 'not "
                    "waiting for exit_trigger'); the app should hold such a trigger and send it after the review. "
                    "Dismissals are recorded in exit_trigger_log on the watching branch and in the completed "
                    "exit_review tasks; they do not flow back into the stage branch's data."))
    p.start("rr_start_event", "Relationship running")
    p.script("rr_start", "Record start of joint working", "running_since = now()\nexit_trigger_log = []\n")
    split = p.pgw("rr_split", "Run stages and watch for exit triggers")
    for n in (5, 6, 7):
        p.call(f"rr_stage{n}", f"Stage {n}: {STAGE_NAMES[n]}", STAGE_IDS[n], props={"phase": PHASE[n]})
    p.end("rr_concluded", "Relationship has run its course", terminate=True)
    p.signal("Signal_exit_trigger", "exit_trigger", variable="exit_info")
    p.signal("Signal_exit_invoked", "exit_invoked", payload="exit_invocation")
    watch = p.at(split, SER).xgw("rr_watch", "Watch for exit triggers")
    p.signal_catch("rr_wait_trigger", "Exit trigger raised", "Signal_exit_trigger")
    p.user("exit_review", "SERs review the exit trigger", lane=SER, props={"notify": "exit_trigger"},
           instructions=instructions("exit_review", """
**Trigger:** {{ exit_info.reason }} (source: {{ exit_info.source }})
{% if exit_info.issue is defined %}**Issue:** {{ exit_info.issue }}{% endif %}
"""))
    decide = p.xgw("rr_exit_decision", "Invoke exit?")
    p.script("rr_prepare_exit", "Prepare the exit decision",
             'exit_invocation = {"trigger": exit_info, "rationale": exit_rationale, '
             '"partner_ser_position": partner_ser_position, "decided_at": now()}\n',
             flow_name="invoke", condition='exit_decision == "invoke"')
    p.signal_throw("rr_invoke_exit", "Exit invoked", "Signal_exit_invoked", documentation=(
        "Reaches the interrupting boundary event lc_exit_invoked on the wrapper call activity in lifecycle "
        "(signals are delivered to every catcher in the top-level workflow); verified on 3.2.0."))
    p.end("rr_exit_thrown", "Exit under way")
    p.at(decide).script("rr_record_dismissal", "Record the dismissal",
                        'exit_trigger_log = exit_trigger_log + [{"trigger": exit_info, "decision": "dismiss", '
                        '"rationale": exit_rationale, "at": now()}]\n' + clear("exit_decision", "exit_rationale"),
                        flow_name="dismiss")
    p.nodes[decide].default = "Flow_rr_exit_decision_rr_record_dismissal"
    p.flow("rr_record_dismissal", watch, name="wait for the next trigger")
    p.group("Group_engagement", "Engagement phase", ["rr_stage5", "rr_stage6"])
    p.group("Group_management", "Management phase", ["rr_stage7"])
    return p


# ---------------------------------------------------------------------------------------------
# Issue resolution
# ---------------------------------------------------------------------------------------------
def issue_resolution():
    p = Process("issue_resolution", "Issue resolution and escalation", lanes=[STAFF, JMT, SER], documentation=(
        "Started by the app as a separate instance linked to the relationship (from stage 5 on). The issue is "
        "worked at level 1 (operational team), then 2 (joint management team), then 3 (both SERs). Each level "
        "has a time limit (l1_limit, l2_limit, l3_limit: ISO durations in the data, defaults P5D, P10D, P15D); "
        "when it expires the issue escalates. Unresolved at level 3, the issue becomes an exit trigger: "
        "signal_parent('exit_trigger', ...) reaches the relationship."))
    p.start("ir_start", "Issue raised")
    p.script("ir_init", "Apply time limits and open the log",
             "".join(default_if_absent(k, f'"{v}"') for k, v in ESCALATION_DEFAULTS.items())
             + 'escalation_history = []\nissue_level = 1\noutcome = "open"\nopened_at = now()\n',
             requirements=["S7.07"])
    p.user("ir_log_issue", "Log the issue", instructions=instructions("ir_log_issue"), requirements=["S7.07"])
    level_lane = {1: STAFF, 2: JMT}
    for lvl in (1, 2):
        if lvl == 2:
            p.at(f"ir_l{lvl - 1}_merge", JMT)
        task = p.user(f"ir_level{lvl}", f"Resolve at level {lvl}", lane=level_lane[lvl], requirements=["S7.07"],
                      instructions=instructions(f"ir_level{lvl}"),
                      props={"notify": "escalation"} if lvl > 1 else None)
        gw = p.xgw(f"ir_l{lvl}_resolved", "Resolved?")
        p.script(f"ir_l{lvl}_close", f"Close: resolved at level {lvl}",
                 f'outcome = "resolved"\nresolved_at_level = {lvl}\nclosed_at = now()\n',
                 flow_name="resolved", condition=f'l{lvl}_resolution == "resolved"')
        p.end(f"ir_l{lvl}_end", f"Resolved at level {lvl}")
        p.at(gw).script(f"ir_l{lvl}_escalated", f"Record escalation from level {lvl}",
                        f'escalation_history = escalation_history + [{{"level": {lvl}, "event": "escalated", '
                        f'"reason": l{lvl}_escalation_reason, "at": now()}}]\nissue_level = {lvl + 1}\n',
                        flow_name="escalate")
        p.nodes[gw].default = f"Flow_ir_l{lvl}_resolved_ir_l{lvl}_escalated"
        merge = p.xgw(f"ir_l{lvl}_merge", f"To level {lvl + 1}")
        b = p.boundary_timer(f"ir_l{lvl}_timer", f"Level {lvl} time limit", task, ("timeDuration", f"l{lvl}_limit"))
        p.at(b).script(f"ir_l{lvl}_timeout", f"Record level {lvl} time-out",
                       f'escalation_history = escalation_history + [{{"level": {lvl}, "event": "time_limit_expired", '
                       f'"limit": l{lvl}_limit, "at": now()}}]\nissue_level = {lvl + 1}\n')
        p.flow(f"ir_l{lvl}_timeout", merge)
    p.at("ir_l2_merge", SER)
    l3 = p.call("ir_level3", "Resolve at level 3 (both SERs)", "issue_level3", requirements=["S7.07"],
                documentation="Both SERs work the issue in parallel (issue_level3); one time limit covers both.")
    gw = p.xgw("ir_l3_resolved", "Both SERs resolved it?")
    p.script("ir_l3_close", "Close: resolved at level 3",
             'outcome = "resolved"\nresolved_at_level = 3\nclosed_at = now()\n',
             flow_name="resolved", condition='l3_outcome == "resolved"')
    p.end("ir_l3_end", "Resolved at level 3")
    p.at(gw).script("ir_l3_escalated", "Record: SERs could not resolve",
                    'escalation_history = escalation_history + [{"level": 3, "event": "unresolved", "at": now()}]\n',
                    flow_name="cannot resolve")
    p.nodes[gw].default = "Flow_ir_l3_resolved_ir_l3_escalated"
    merge = p.xgw("ir_l3_merge", "Unresolved")
    p.script("ir_raise_exit_trigger", "Raise an exit trigger on the relationship",
             'signal_parent("exit_trigger", {"reason": "Issue unresolved after escalation to both SERs: " + '
             'issue_title, "source": "escalation", "issue": {"title": issue_title, "description": '
             'issue_description, "category": issue_category, "impact": issue_impact, "history": '
             'escalation_history}})\noutcome = "exit_trigger_raised"\nclosed_at = now()\n',
             requirements=["S7.07"])
    p.end("ir_exit_trigger_end", "Exit-trigger review requested")
    b = p.boundary_timer("ir_l3_timer", "Level 3 time limit", l3, ("timeDuration", "l3_limit"))
    p.at(b).script("ir_l3_timeout", "Record level 3 time-out",
                   'escalation_history = escalation_history + [{"level": 3, "event": "time_limit_expired", '
                   '"limit": l3_limit, "at": now()}]\n')
    p.flow("ir_l3_timeout", merge)
    return p


def issue_level3():
    p = Process("issue_level3", "Issue resolution level 3: both SERs", lanes=[SER, PSER], documentation=(
        "Called by issue_resolution. Both SERs record their position; the issue counts as resolved only if "
        "both say so (l3_outcome). The level 3 time limit is the boundary timer on the calling activity."))
    p.start("ir3_start", "Escalated to the SERs")
    p.script("ir3_prepare", "Open level 3",
             "# Clear answers from any earlier round so one branch cannot overwrite the other at the join.\n"
             + clear("l3_resolution", "l3_partner_resolution"))
    split = p.pgw("ir3_split", "Both SERs")
    p.user("ir_level3_ser", "SER works the issue", requirements=["S7.07"], props={"notify": "escalation"},
           instructions=instructions("ir_level3_ser", "**Escalation so far:** {{ escalation_history }}"))
    join = p.pgw("ir3_join", "Both answered")
    p.at(split, PSER).user("ir_level3_partner_ser", "Partner SER works the issue", lane=PSER, requirements=["S7.07"],
                           props={"notify": "escalation"},
                           instructions=instructions("ir_level3_partner_ser",
                                                     "**Escalation so far:** {{ escalation_history }}"))
    p.flow("ir_level3_partner_ser", join)
    p.at(join, SER).script("ir3_combine", "Combine the SERs' answers",
                           'l3_outcome = "resolved" if (l3_resolution == "resolved" and '
                           'l3_partner_resolution == "resolved") else "unresolved"\n')
    p.end("ir3_end", "Level 3 answered")
    return p


# ---------------------------------------------------------------------------------------------
# Periodic reviews
# ---------------------------------------------------------------------------------------------
SCHEDULE_NEXT = "REVIEW_TITLES = " + json.dumps(REVIEW_TITLES) + """
# Calendar-true: the next due date is the first one on this review's calendar (its due date plus whole
# intervals) that is still ahead, so a late review does not shift the cycle, and after an outage the
# missed periods are not replayed as a burst of stale reviews. Each run is its own short instance.
next_run = {"review_id": review_id, "title": REVIEW_TITLES.get(review_id, "Periodic review"),
            "due_at": next_after(due_at, interval, now()), "interval": interval,
            "sequence": sequence + 1, "relationship_name": relationship_name,
            "previous_overall": previous_overall}
if review_id == "R.RK":
    next_run["risks"] = risks
if review_id == "R.EX":
    next_run["exit_strategy"] = exit_strategy
    next_run["exit_triggers"] = exit_triggers
if review_id == "R.S5":
    next_run["audit_programme"] = audit_programme
if review_id == "R.S7":
    next_run["performance_measures"] = performance_measures
start_process("periodic_review", next_run)
next_due_at = next_run["due_at"]
completed_at = now()
outcome = "completed"
del next_run
del REVIEW_TITLES
"""

CHECK_PERFORMANCE = """
# Two red overall ratings in a row raise an exit trigger on the relationship.
exit_trigger_raised = overall_rating == "red" and previous_overall == "red"
if exit_trigger_raised:
    signal_parent("exit_trigger", {"reason": "Two consecutive red overall performance reviews (review "
                                   + str(sequence - 1) + " and " + str(sequence) + ")",
                                   "source": "performance", "review_id": review_id, "due_at": due_at,
                                   "ratings": performance_ratings})
previous_overall = overall_rating
"""


def periodic_review():
    p = Process("periodic_review", "Periodic review", lanes=[STAFF, JMT, SER], documentation=(
        "One run of a recurring review. Data: review_id (R.S3, R.S5, R.S7, R.EX, R.RK), due_at (ISO date-time "
        "with offset), interval (ISO period), sequence, previous_overall. Waits until due_at, routes to the "
        "review task for its kind, then starts the next run with start_process (calendar-true due date) and "
        "ends, so no instance grows with the number of reviews. The lifecycle starts the first run of each "
        "kind and cancels the chain with cancel_linked('periodic_review') when stage 8 starts."))
    p.start("pr_start", "Review scheduled")
    p.timer_catch("pr_wait", "Review due", ("timeDate", "due_at"))
    route = p.xgw("pr_route", "Which review?")
    merge_id = "pr_done"
    routes = [
        ("R.S3", "pr_management_system_review", "SER reviews the management system", SER, ["S3.07", "S3.01"]),
        ("R.S5", "pr_internal_audit", "Internal audit of collaborative processes", STAFF, ["S5.13"]),
        ("R.S7", "pr_performance_review", "Rate outputs, risk, alignment, behaviours, trust", JMT,
         ["S7.01", "S7.03", "S7.04"]),
        ("R.EX", "pr_exit_strategy_review", "Review the joint exit strategy", JMT, ["S7.08"]),
        ("R.RK", "pr_risk_register_review", "Review the joint risk register", JMT, ["S5.09"]),
    ]
    ends = []
    for rid, tid, name, lane, reqs in routes:
        p.at(route).user(tid, name, lane=lane, requirements=reqs, flow_name=rid, props={"dueIn": REVIEW_DUE_IN},
                         condition=f'review_id == "{rid}"', instructions=instructions(tid))
        if rid == "R.S7":
            p.user("pr_ser_performance_feedback", "SER confirms rating, gives feedback", lane=SER,
                   requirements=["S7.06"], props={"dueIn": REVIEW_DUE_IN}, instructions=instructions("pr_ser_performance_feedback", """
**Proposed overall rating:** {{ overall_rating }}{% if previous_overall %} (previous review: {{ previous_overall }}){% endif %}
"""))
            p.script("pr_check_performance", "Check for consecutive red reviews", CHECK_PERFORMANCE,
                     requirements=["S7.06"])
        ends.append(p.cursor)
    p.at(route, SER).script("pr_unknown_review", "Unknown review id",
                            'raise ValueError("Unknown review_id: " + str(review_id))\n', flow_name="unknown")
    p.nodes[route].default = "Flow_pr_route_pr_unknown_review"
    p.end("pr_unknown_end", "Not reviewed")
    merge = p.at(ends[0], SER).xgw(merge_id, "Review done")
    for e in ends[1:]:
        p.flow(e, merge)
    p.script("pr_schedule_next", "Schedule the next review", SCHEDULE_NEXT)
    p.end("pr_end", "Review complete")
    return p


PROCESSES = [lifecycle, stage1, stage2, stage3, stage4, relationship_running, stage5, stage6, stage7, stage8,
             issue_resolution, issue_level3, periodic_review]


def build_processes():
    return [f() for f in PROCESSES]


def user_task_ids(processes):
    return [n.id for p in processes for n in p.nodes.values() if n.kind == "user"]


def write_all():
    processes = build_processes()
    BPMN_DIR.mkdir(exist_ok=True)
    FORMS_DIR.mkdir(exist_ok=True)
    for p in processes:
        (BPMN_DIR / f"{p.id}.bpmn").write_bytes(p.to_xml())
    tasks = user_task_ids(processes)
    missing = sorted(set(tasks) - set(FORMS))
    unused = sorted(set(FORMS) - set(tasks))
    if missing or unused:
        raise SystemExit(f"forms missing for {missing}; forms without a task: {unused}")
    for tid in tasks:
        schema, ui = FORMS[tid]
        (FORMS_DIR / f"{tid}.schema.json").write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n")
        (FORMS_DIR / f"{tid}.uischema.json").write_text(json.dumps(ui, indent=2, ensure_ascii=False) + "\n")
    write_map()
    print(f"wrote {len(processes)} diagrams, {len(tasks)} forms, {MAP_FILE.relative_to(ROOT)}")


def write_map():
    MAP_FILE.parent.mkdir(exist_ok=True)
    MAP_FILE.write_text(render_map(BPMN_DIR))


if __name__ == "__main__":
    if "--map" in sys.argv[1:]:
        write_map()
    else:
        write_all()
