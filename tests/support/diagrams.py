"""The bundled diagrams and forms as files, for the catalogue and layout tests (running them is
tests/app/lifecycle's job, through the real services), and the requirement catalogue they must carry."""
from __future__ import annotations

import json
import re
import sys
from functools import cache
from pathlib import Path

import jsonschema
import yaml
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser

ROOT = Path(__file__).resolve().parents[2]
BPMN_DIR = ROOT / "bpmn"
FORMS_DIR = ROOT / "forms"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

EXECUTABLE = ("lifecycle", "management_system", "issue_resolution", "periodic_review")


# ------------------------------------------------------------------------------------------------
# Specs
# ------------------------------------------------------------------------------------------------
def bpmn_files():
    return sorted(BPMN_DIR.glob("*.bpmn"))


def dmn_files():
    return sorted(BPMN_DIR.glob("*.dmn"))


@cache
def parser():
    p = SpiffBpmnParser(validator=VALIDATOR)
    p.add_bpmn_files([str(f) for f in bpmn_files()])
    p.add_dmn_files([str(f) for f in dmn_files()])
    return p


@cache
def specs(process_id):
    p = parser()
    return p.get_spec(process_id), p.get_subprocess_specs(process_id)


# ------------------------------------------------------------------------------------------------
# Forms
# ------------------------------------------------------------------------------------------------
@cache
def load_form_files(schema_file, ui_file):
    return json.loads((FORMS_DIR / schema_file).read_text()), json.loads((FORMS_DIR / ui_file).read_text())


def load_form(task_spec):
    """The (schema, uischema) named by the task's properties (a multi-instance child has the same ones)."""
    props = task_spec.extensions.get("properties", {})
    return load_form_files(props["formJsonSchemaFilename"], props["formUiSchemaFilename"])


def name_of(task):
    """The BPMN id of a task (a multi-instance child's spec is called '<id> [child]')."""
    return task.task_spec.bpmn_id or task.task_spec.name


def validator(schema):
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


# ------------------------------------------------------------------------------------------------
# The requirement catalogue (shared/domain/requirements.yaml, read without a YAML library)
# ------------------------------------------------------------------------------------------------
def requirements_yaml_path():
    """The product's catalogue (app/lifecycle/requirements.yaml, a copy of shared/domain/requirements.yaml)."""
    return ROOT / "app" / "lifecycle" / "requirements.yaml"


def requirement_ids():
    """Every id of the catalogue in its order: stages, management system, the exit-trigger decision."""
    from app.requirements import catalogue
    return [r.id for r in catalogue(str(requirements_yaml_path()))]


def periodic_review_defaults(scope="relationship"):
    """{review id: default cycle} of the reviews whose requirement has `scope` (the lifecycle's own, or the
    organisation's management system's)."""
    from app.requirements import catalogue
    scopes = {r.id: r.scope for r in catalogue(str(requirements_yaml_path()))}
    data = yaml.safe_load(requirements_yaml_path().read_text())
    return {r["id"]: r["default_cycle"] for r in data["periodic_reviews"] if scopes[r["requirement"]] == scope}


def escalation_defaults():
    text = requirements_yaml_path().read_text()
    return {f"l{lvl}_limit": limit for lvl, limit in
            re.findall(r"\{level:\s*(\d),.*default_limit:\s*(P\w+)\}", text)}
