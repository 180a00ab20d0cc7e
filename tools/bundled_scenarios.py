"""Writes the bundled scenarios (bpmn/scenarios/*.scenario.json) by driving the bundled diagrams on the real engine in
memory, each form filled as a person would (tests/support/driver.fill_form). Run it after a change to the lifecycle
that the scenarios should follow: `.venv/bin/python -m tools.bundled_scenarios`; then read the diff."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path

from app.inbox.binding import declared
from app.processes.choices import with_choices
from tests.support.driver import fill_form
from workflows import InMemoryStore, WorkflowEngine, add_period, read_directory
from workflows.scenarios import DEFAULT_START, SCENARIO_FOLDER

ROOT = Path(__file__).resolve().parents[1]
FILES, FORMS = read_directory(ROOT / "bpmn", ROOT / "forms")
ENGINE = WorkflowEngine(InMemoryStore())
VERSION, _ = ENGINE.deploy(FILES, FORMS)
CRITERIA = [{"criterion": "Culture", "category": "culture", "weight": 100, "how_assessed": "Workshops"}]
READY_PAYLOAD = {"selection_criteria": CRITERIA}
START = {"relationship_name": "ACME joint bid"}
GATES = ["s2_ser_gate", "s4_ser_gate", "s5_ser_gate", "s6_ser_gate", "s7_ser_gate", "s8_ser_gate"]

class Rec:
    """One instance driven and recorded as a scenario: its steps, then `write`."""

    def __init__(self, process, start):
        self.now = DEFAULT_START
        self.steps = []
        self.process, self.start = process, start
        self.iid = ENGINE.start(VERSION, process, copy.deepcopy(start), now=self.now).instance_id
    def ready(self):
        return ENGINE.ready_tasks(self.iid)
    def ready_ids(self):
        return [t.bpmn_id for t in self.ready()]
    def complete(self, bpmn_id, answers=None):
        t = [t for t in self.ready() if t.bpmn_id == bpmn_id][0]
        current = ENGINE.get_task(self.iid, t.id).data  # choices taken from the data, as the page offers them
        schema = with_choices(json.loads(FORMS[t.form]), json.loads(FORMS[t.ui_form]) if t.ui_form else None, current)
        data = fill_form(schema, declared(schema, current), answers)
        ENGINE.complete_task(self.iid, t.id, data, now=self.now)
        self.steps.append({"complete": bpmn_id, "data": data})
    def signal(self, name, payload):
        ENGINE.send_signal(self.iid, name, payload, now=self.now)
        self.steps.append({"signal": name, "payload": payload})
    def waits(self, name):
        rec = ENGINE.store.get_instance(self.iid)
        return rec.status == "running" and name in ENGINE._snapshot(copy.deepcopy(rec), ENGINE._load(rec), []).waiting_signals
    def drive(self, answers=None, until=None, max_steps=300):
        answers = {k: (list(v) if isinstance(v, list) else v) for k, v in (answers or {}).items()}
        for _ in range(max_steps):
            if until and until(self):
                return
            ready = sorted(self.ready(), key=lambda t: t.bpmn_id) if self.status() == "running" else []
            if not ready and self.process == "lifecycle" and self.waits("organisation_ready"):
                self.signal("organisation_ready", READY_PAYLOAD)
                continue
            if not ready:
                return
            a = answers.get(ready[0].bpmn_id, {})
            if isinstance(a, list):
                a = a.pop(0) if a else {}
            self.complete(ready[0].bpmn_id, a)
        raise AssertionError("too many")
    def expect(self, **e):
        self.steps.append({"expect": e})
    def wait(self, period):
        until = add_period(self.now, period)
        while True:
            rec = ENGINE.store.get_instance(self.iid)
            due = sorted(t.due_at for t in rec.timers if t.due_at < until) if rec.status == "running" else []
            if not due:
                break
            self.now = max(self.now, min(due[0] + timedelta(seconds=1), until))
            ENGINE.fire_timers(self.iid, now=self.now)
        self.now = until
        self.steps.append({"wait": period})
    def status(self):
        return ENGINE.store.get_instance(self.iid).status
    def data(self):
        return ENGINE.store.get_instance(self.iid).data
    def write(self, file, name, description, expect):
        doc = {"name": name, "description": description, "process": self.process, "start": self.start,
               "steps": self.steps, "expect": expect}
        (ROOT / "bpmn" / SCENARIO_FOLDER / file).write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
        print(file, len(self.steps), "steps", self.status(), json.dumps({k: self.data().get(k) for k in ("outcome",)}))



def until(name):
    return lambda r: name in r.ready_ids()


def main():
    # 1 happy path
    r = Rec("lifecycle", START)
    r.drive(until=until("s2_ser_gate"))
    r.complete("s2_ser_gate", {"decision": "approve"})
    r.expect(ready=[], path=["s2_ser_gate", "lc_collaboration_appropriate"], end=None)
    r.signal("organisation_ready", READY_PAYLOAD)
    r.expect(ready=["s4_nominate_candidates"])
    r.drive(until=until("s5_identify_sers"))
    r.expect(ready=["s5_identify_sers"], path=["s4_ser_gate"])
    r.drive()
    r.write("happy_path.scenario.json", "Happy path: stage 2 to a natural exit",
            "A relationship approved at every gate, from stage 2 through partner selection, working together, value "
            "creation and staying together to a natural exit in stage 8.",
            {"path": [*GATES, "lc_end"], "end": "lc_end", "data": {"outcome": "completed", "premature_exit": False},
             "started": ["periodic_review"]})
    # 2 rework: the SER reopens two of the stage's tasks; only those are redone
    r = Rec("lifecycle", START)
    r.drive(until=until("s2_ser_gate"))
    r.complete("s2_ser_gate", {"decision": "rework", "comments": "The business case lacks payback; the risks miss the "
                               "partner's exit.", "reopen_tasks": ["s2_business_case", "s2_risks"]})
    r.expect(ready=["s2_business_case"], not_ready=["s2_opportunity", "s2_ser_gate"])
    r.complete("s2_business_case")
    r.expect(ready=["s2_risks"], not_ready=["s2_potential_partners", "s2_exit_assessment"])
    r.complete("s2_risks")
    r.expect(ready=["s2_ser_gate"], not_ready=["s2_rmp_update"])
    r.complete("s2_ser_gate", {"decision": "approve"})
    r.signal("organisation_ready", READY_PAYLOAD)
    r.write("rework.scenario.json", "Rework: the SER sends two stage 2 tasks back",
            "The SER sends stage 2 back, ticking the business case and the risks: only those two tasks reopen, the "
            "others keep their answers, and the SER then approves, so the relationship goes on to partner selection.",
            {"path": ["s2_ser_gate", "s2_business_case", "s2_risks", "s2_ser_gate", "lc_collaboration_appropriate"],
             "ready": ["s4_nominate_candidates"], "end": None})
    # 3 stop
    r = Rec("lifecycle", START)
    r.drive(until=until("s2_ser_gate"))
    r.complete("s2_ser_gate", {"decision": "stop", "comments": "No partner market; stays transactional."})
    r.write("stage2_stop.scenario.json", "Stage 2 stop: collaboration not appropriate",
            "The SER decides at the stage 2 gate that a collaborative relationship is not appropriate: the "
            "relationship ends there and stays transactional.",
            {"path": ["s2_ser_gate", "lc_collaboration_appropriate"], "end": "lc_end_not_appropriate",
             "data": {"outcome": "not_appropriate"}})
    # 3b no suitable partner at stage 4
    r = Rec("lifecycle", START)
    r.drive(until=until("s2_ser_gate"))
    r.complete("s2_ser_gate", {"decision": "approve"})
    r.signal("organisation_ready", READY_PAYLOAD)
    r.drive(until=until("s4_ser_gate"))
    r.complete("s4_ser_gate", {"decision": "no_suitable_partner",
                               "comments": "No candidate met the culture and capability thresholds."})
    r.write("stage4_no_partner.scenario.json", "Stage 4: no suitable partner",
            "The SER finds no candidate suitable at the stage 4 gate and says why: the relationship ends there with "
            "the outcome 'no suitable partner' instead of going round rework.",
            {"path": ["s4_ser_gate", "lc_partner_found"], "end": "lc_end_no_partner",
             "data": {"outcome": "no_suitable_partner"}})
    # 4 escalation (issue)
    ISSUE = {"title": "Late design documents", "issue_title": "Late design documents",
             "issue_description": "Drawings are three weeks late", "raised_by": "Jo", "raised_on": "2025-01-06",
             "raised_in_stage": 6, "relationship_title": "ACME joint bid",
             "limits_source": "the catalogue defaults: no issue resolution process is agreed yet (stage 7)"}
    r = Rec("issue_resolution", ISSUE)
    r.complete("ir_log_issue")
    r.expect(ready=["ir_level1"])
    r.wait("P4D")
    r.expect(ready=["ir_level1"])
    r.wait("P1DT1M")
    r.expect(ready=["ir_level2"], not_ready=["ir_level1"])
    r.wait("P10DT1M")
    r.expect(ready=["ir_level3_ser", "ir_level3_partner_ser"])
    r.wait("P15DT1M")
    r.write("issue_escalation.scenario.json", "Escalation: an issue escalated to an exit trigger",
            "Nobody resolves the issue: each level's time limit expires (5, 10 and 15 days by default) and the "
            "issue raises an exit trigger on its relationship.",
            {"end": None if r.status() == "running" else "ir_exit_trigger_end", "data": {"outcome": "exit_trigger_raised"},
             "signalled": ["exit_trigger"]})
    # 5 premature exit
    r = Rec("lifecycle", START)
    r.drive(until=until("s6_improvement"))
    r.signal("exit_trigger", {"reason": "Late design documents: escalation failed", "source": "escalation", "raised_by": "Jo"})
    r.expect(ready=["exit_review", "exit_review_partner", "s6_improvement"])
    r.complete("exit_review", {"exit_decision": "invoke_exit", "exit_rationale": "Trust has broken down."})
    r.complete("exit_review_partner", {"partner_exit_decision": "invoke_exit", "partner_exit_rationale": "We agree."})
    r.expect(ready=["s8_finalise_exit_strategy"], not_ready=["s6_improvement"])
    r.drive()
    r.write("premature_exit.scenario.json", "Escalation to exit: an exit trigger invoked in stage 6",
            "An exit trigger arrives while stage 6 runs; both SERs invoke exit, the running stage is interrupted and "
            "stage 8 runs as a premature exit.",
            {"path": ["exit_review", "exit_review_partner", "lc_stage8"], "end": "lc_end",
             "data": {"outcome": "exited_prematurely", "premature_exit": True}})


if __name__ == "__main__":
    main()
