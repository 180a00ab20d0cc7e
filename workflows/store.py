"""The storage port: what the engine needs from a database, and an in-memory twin for engine tests.

The engine never commits anything: a store adds rows to the caller's unit of work; the caller (an app
service) commits once per user action. `save` must refuse with Conflict when the stored revision is
not the one that was read (optimistic concurrency: nothing merged silently).
"""

from __future__ import annotations

import copy
import itertools
import threading
from dataclasses import dataclass, field, replace
from typing import Protocol

from .errors import Conflict, InstanceNotFound, SpecNotFound
from .user_tasks import TimerDue, UserTask


@dataclass
class StoredVersion:
    id: int | None
    files: dict[str, bytes]
    forms: dict[str, bytes]
    content_hash: str
    spec_json: str
    process_ids: list[str]
    author: str | None = None
    message: str | None = None


@dataclass
class InstanceRecord:
    """One process instance as stored, plus the derived rows a store keeps in sync with it."""

    id: int | None
    version_id: int
    process_id: str
    status: str  # running | completed | cancelled
    state: str
    state_format: int
    revision: int = 0
    parent_id: int | None = None
    ready_tasks: list[UserTask] = field(default_factory=list)
    closed_tasks: dict[str, str] = field(default_factory=dict)  # task id -> completed | cancelled, this action
    timers: list[TimerDue] = field(default_factory=list)
    data: dict = field(default_factory=dict)  # the workflow's data when it completed
    title: str | None = None  # what people call it: the `title` in its start data, if any


class InstanceStore(Protocol):
    def add_version(self, version: StoredVersion) -> int: ...

    def get_version(self, version_id: int) -> StoredVersion:
        """Raises SpecNotFound."""

    def create_instance(self, record: InstanceRecord) -> int: ...

    def get_instance(self, instance_id: int) -> InstanceRecord:
        """Raises InstanceNotFound."""

    def save_instance(self, record: InstanceRecord) -> int:
        """Write `record` if the stored revision is still `record.revision`; return the new revision.

        Raises Conflict when someone else saved in between.
        """

    def linked_instances(self, parent_id: int, process_id: str | None = None,
                         status: str | None = "running") -> list[int]: ...


class InMemoryStore:
    """InstanceStore in a dict; thread-safe, so concurrency tests can run against it too."""

    def __init__(self):
        self._versions: dict[int, StoredVersion] = {}
        self._instances: dict[int, InstanceRecord] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add_version(self, version: StoredVersion) -> int:
        with self._lock:
            version_id = len(self._versions) + 1
            self._versions[version_id] = replace(version, id=version_id)
            return version_id

    def get_version(self, version_id: int) -> StoredVersion:
        try:
            return self._versions[version_id]
        except KeyError:
            raise SpecNotFound(f"version {version_id} does not exist") from None

    def create_instance(self, record: InstanceRecord) -> int:
        with self._lock:
            instance_id = next(self._ids)
            self._instances[instance_id] = replace(copy.deepcopy(record), id=instance_id, revision=1)
            return instance_id

    def get_instance(self, instance_id: int) -> InstanceRecord:
        try:
            return copy.deepcopy(self._instances[instance_id])
        except KeyError:
            raise InstanceNotFound(f"instance {instance_id} does not exist") from None

    def save_instance(self, record: InstanceRecord) -> int:
        with self._lock:
            current = self._instances.get(record.id)
            if current is None:
                raise InstanceNotFound(f"instance {record.id} does not exist")
            if current.revision != record.revision:
                raise Conflict(f"instance {record.id} was changed by someone else (revision "
                               f"{current.revision}, expected {record.revision})")
            self._instances[record.id] = replace(copy.deepcopy(record), revision=record.revision + 1)
            return record.revision + 1

    def linked_instances(self, parent_id, process_id=None, status="running"):
        return sorted(i for i, r in self._instances.items() if r.parent_id == parent_id
                      and (process_id is None or r.process_id == process_id)
                      and (status is None or r.status == status))
