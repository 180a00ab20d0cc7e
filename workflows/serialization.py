"""Instance state as JSON without the specs: the parsed spec is stored once per version, not per instance.

The converter is the one from the engine notes (section 3); orjson does the text encoding because it
is several times faster than json on the hot path (every user action loads and saves one instance).
STATE_FORMAT versions our envelope; SpiffWorkflow's own `serializer_version` inside is migrated by
its serializer on load.
"""

from __future__ import annotations

from uuid import UUID

import orjson
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default import BpmnProcessSpecConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG

from .compaction import COMPACTED
from .errors import StateTooNew

STATE_FORMAT = 1


class SpeclessWorkflowConverter(BpmnWorkflowConverter):
    """Leaves `spec` and `subprocess_specs` out of an instance; they come from the version at load."""

    def to_dict(self, wf):
        dct = WorkflowConverter.to_dict(self, wf)
        dct.update(spec_name=wf.spec.name, subprocesses=self.mapping_to_dict(wf.subprocesses),
                   bpmn_events=self.registry.convert(wf.bpmn_events))
        history = getattr(wf, COMPACTED, None)
        if history:
            dct[COMPACTED] = history
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None):
        wf = self.target_class(spec, subprocess_specs, deserializing=True)
        wf.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=wf)
        wf.task_tree = wf.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(wf, dct)
        self.subprocesses_from_dict(dct["subprocesses"], wf)
        wf.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        setattr(wf, COMPACTED, dct.pop(COMPACTED, None) or [])
        return wf


class SettingsProcessSpecConverter(BpmnProcessSpecConverter):
    """Keeps a process's declared settings (workflows.settings) with its spec; a spec stored before has none."""

    def to_dict(self, spec):
        dct = super().to_dict(spec)
        dct["settings"] = dict(getattr(spec, "settings", None) or {})
        return dct

    def from_dict(self, dct):
        settings = dct.pop("settings", None) or {}
        spec = super().from_dict(dct)
        spec.settings = settings
        return spec


def _serializer(specless: bool) -> BpmnWorkflowSerializer:
    config = dict(DEFAULT_CONFIG)
    config[BpmnProcessSpec] = SettingsProcessSpecConverter
    if specless:
        config[BpmnWorkflow] = SpeclessWorkflowConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


_STATE = _serializer(specless=True)
_SPECS = _serializer(specless=False)


def _fallback(value):
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    raise TypeError(f"task data holds a {type(value).__name__}, which cannot be stored")


def dump_state(wf: BpmnWorkflow) -> str:
    dct = _STATE.to_dict(wf)
    dct[_STATE.VERSION_KEY] = _STATE.VERSION
    return orjson.dumps({"format": STATE_FORMAT, "workflow": dct}, default=_fallback).decode()


def load_state(state: str | bytes, specs: dict) -> BpmnWorkflow:
    """Rebuild a workflow from stored state and the version's specs. The caller attaches the script engine."""
    envelope = orjson.loads(state)
    if envelope.get("format", 0) > STATE_FORMAT:
        raise StateTooNew(f"instance state format {envelope.get('format')} is newer than this collabflow "
                          f"({STATE_FORMAT}); upgrade before loading it")
    dct = envelope["workflow"]
    _STATE.migrate(dct)
    return _STATE.from_dict(dct, spec=specs[dct["spec_name"]], subprocess_specs=specs)


def spec_registry():
    """The converter registry SpiffWorkflow's spec diff compares task specs with."""
    return _SPECS.registry


def dump_specs(specs: dict) -> str:
    """All process specs of a version as one JSON text (stored once per version)."""
    return orjson.dumps({pid: _SPECS.to_dict(spec) for pid, spec in specs.items()}, default=_fallback).decode()


def load_specs(text: str | bytes) -> dict:
    return {pid: _SPECS.from_dict(dct) for pid, dct in orjson.loads(text).items()}
