"""The requirements catalogue (`app/lifecycle/requirements.yaml`, a copy of the domain's requirements-v2.yaml): every
requirement of the eight stages, of the management system (clauses 4-10) and the joint exit decision, each with
its stable id and its scope. One reader for deploy checks, compliance and the management-system pages; it imports
nothing of the app, so every domain may read it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from .config import REQUIREMENTS_FILE

ORGANISATION, RELATIONSHIP = "organisation", "relationship"


@dataclass(frozen=True)
class Requirement:
    id: str
    stage: str  # S1..S8, M4..M10, or X (the exit-trigger decision)
    stage_name: str
    kind: str
    role: str
    text: str
    review_cycle: str | None = None  # ISO period when a periodic review keeps it current
    scope: str = RELATIONSHIP  # organisation: done once in the management system; relationship: in each one


@dataclass(frozen=True)
class PeriodicReview:
    """A recurring review of the catalogue (R.PM, ...): what it reviews, the requirement it keeps current, its cycle."""

    id: str
    requirement: str
    default_cycle: str
    what: str


@cache
def periodic_reviews(path: str = REQUIREMENTS_FILE) -> tuple[PeriodicReview, ...]:
    data = yaml.safe_load(Path(path).read_text())
    return tuple(PeriodicReview(r["id"], r["requirement"], r["default_cycle"], r["what"])
                 for r in data.get("periodic_reviews", []))


@cache
def catalogue(path: str = REQUIREMENTS_FILE) -> tuple[Requirement, ...]:
    data = yaml.safe_load(Path(path).read_text())
    cycles = {r["requirement"]: r["default_cycle"] for r in data.get("periodic_reviews", [])}
    groups = [*data.get("stages", []), *data.get("management_system", [])]
    decision = (data.get("exit_triggers") or {}).get("decision")
    if decision:
        groups.append({"id": "X", "name": "Exit-trigger decision", "requirements": [decision]})
    return tuple(Requirement(r["id"], group["id"], group["name"], r["kind"], r["role"], r["text"],
                             cycles.get(r["id"]), r.get("scope", RELATIONSHIP))
                 for group in groups for r in group["requirements"])


def requirement_ids(path: str = REQUIREMENTS_FILE) -> frozenset[str]:
    return frozenset(r.id for r in catalogue(path))


def of_scope(scope: str, path: str = REQUIREMENTS_FILE) -> tuple[Requirement, ...]:
    return tuple(r for r in catalogue(path) if r.scope == scope)
