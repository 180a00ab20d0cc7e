from datetime import UTC, datetime

import pytest

from app.processes.services import deploy_version
from workflows import read_directory

ROOT_BPMN, ROOT_FORMS = "bpmn", "forms"
START_TIME = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
START = {"relationship_name": "ACME joint bid"}


@pytest.fixture
def lifecycle_version(session, wf_engine, users):
    from pathlib import Path
    root = Path(__file__).resolve().parents[3]
    files, forms = read_directory(root / ROOT_BPMN, root / ROOT_FORMS)
    version, _warnings, _ = deploy_version(session, wf_engine, files, forms, user=users["owner"],
                                           message="the bundled lifecycle", now=START_TIME)
    return version


@pytest.fixture
def start(session, services, users, lifecycle_version):
    """start(process_id="lifecycle", data=START, now=START_TIME) -> Driver"""
    from tests.app.lifecycle.driver import Driver

    def starter(process_id="lifecycle", data=None, now=START_TIME):
        return Driver.start(session, services, users, process_id, START if data is None else data, now=now)
    return starter
