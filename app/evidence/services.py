"""Storing and reading evidence files: allowed types checked by content, a size limit, a sha256 checksum.

The type is decided from the file name *and* its first bytes, never from what the browser claims, and
downloads are always attachments, so an uploaded file can never run as a page of this site.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access import services as access
from ..audit.services import record
from ..auth.models import User
from ..auth.permissions import Permission, may
from ..errors import BadRequest, Forbidden, NotFound
from ..processes.models import HumanTask
from .models import EvidenceFile

_ZIP = (b"PK\x03\x04",)
ALLOWED = {  # extension: (content type, accepted leading bytes; None = text)
    "pdf": ("application/pdf", (b"%PDF-",)),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", _ZIP),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _ZIP),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", _ZIP),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "txt": ("text/plain; charset=utf-8", None),
    "csv": ("text/csv; charset=utf-8", None),
}
ACCEPT = ",".join("." + ext for ext in ALLOWED)


@dataclass(frozen=True)
class Upload:
    """A file as received: name and a stream. Pages build it from the request, tests from bytes."""

    filename: str
    stream: BinaryIO


def safe_filename(name: str) -> str:
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[\x00-\x1f\x7f\"<>|:*?]", "", name).strip(" .")
    return name[-200:] or "file"


def read_checked(upload: Upload, max_bytes: int) -> tuple[str, str, bytes]:
    """(filename, content type, content). Raises BadRequest for an empty, too large or disallowed file."""
    filename = safe_filename(upload.filename)
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in ALLOWED:
        raise BadRequest(f"{filename}: this type of file is not accepted; use one of "
                         f"{', '.join(sorted({e for e in ALLOWED if e != 'jpeg'}))}")
    content = upload.stream.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise BadRequest(f"{filename} is larger than the limit of {_size(max_bytes)}")
    if not content:
        raise BadRequest(f"{filename} is empty")
    content_type, magic = ALLOWED[extension]
    if magic is None:
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest(f"{filename} is not a UTF-8 text file") from None
        if "\x00" in text:
            raise BadRequest(f"{filename} is not a text file")
    elif not content.startswith(magic):
        raise BadRequest(f"{filename} does not look like a .{extension} file")
    return filename, content_type, content


def store(session: Session, user: User, upload: Upload, *, relationship_id: int, instance_id: int,
          human_task_id: int | None, field: str | None, max_bytes: int, now: datetime) -> EvidenceFile:
    """Keep one file as evidence of a relationship (and task). Raises BadRequest. Commits."""
    filename, content_type, content = read_checked(upload, max_bytes)
    evidence = EvidenceFile(relationship_id=relationship_id, instance_id=instance_id, human_task_id=human_task_id,
                            field=field, filename=filename, content_type=content_type, size=len(content),
                            sha256=hashlib.sha256(content).hexdigest(), content=content, uploaded_by_id=user.id,
                            uploaded_at=now)
    session.add(evidence)
    session.flush()
    record(session, "evidence.uploaded", actor=user, instance_id=instance_id, at=now, payload={
        "evidence_id": evidence.id, "filename": filename, "size": evidence.size, "sha256": evidence.sha256,
        "human_task_id": human_task_id, "field": field})
    session.commit()
    return evidence




def supersede(session: Session, user: User, evidence_id: int, upload: Upload, *, max_bytes: int,
              now: datetime) -> EvidenceFile:
    """Upload a new version of a document (document control). The earlier version is kept, marked superseded,
    and stays what the tasks that cited it point to. Raises NotFound, Forbidden, BadRequest. Commits."""
    previous = get(session, evidence_id)
    if not visible_to(session, user, [previous]):
        raise NotFound(f"evidence {evidence_id} does not exist")
    if not may(user, Permission.UPLOAD_EVIDENCE):
        raise Forbidden("your roles let you read evidence but not upload it")
    if previous.superseded_at is not None:
        raise BadRequest(f"{previous.filename} version {previous.version} is already superseded; "
                         "upload a new version of the current one")
    filename, content_type, content = read_checked(upload, max_bytes)
    current = EvidenceFile(relationship_id=previous.relationship_id, instance_id=previous.instance_id,
                           human_task_id=previous.human_task_id, field=previous.field, filename=filename,
                           content_type=content_type, size=len(content), sha256=hashlib.sha256(content).hexdigest(),
                           content=content, uploaded_by_id=user.id, uploaded_at=now,
                           document_id=previous.document_id or previous.id, version=previous.version + 1)
    previous.superseded_at = now
    session.add(current)
    session.flush()
    record(session, "evidence.superseded", actor=user, instance_id=previous.instance_id, at=now, payload={
        "evidence_id": current.id, "supersedes": previous.id, "version": current.version, "filename": filename,
        "sha256": current.sha256})
    session.commit()
    return current


def versions(session: Session, user: User, evidence_id: int) -> list[EvidenceFile]:
    """Every version of the document a file belongs to, newest first (superseded ones kept)."""
    evidence = get(session, evidence_id)
    if not visible_to(session, user, [evidence]):
        raise NotFound(f"evidence {evidence_id} does not exist")
    document = evidence.document_id or evidence.id
    return list(session.scalars(select(EvidenceFile).where(
        (EvidenceFile.id == document) | (EvidenceFile.document_id == document))
        .order_by(EvidenceFile.version.desc())))


def get(session: Session, evidence_id: int) -> EvidenceFile:
    evidence = session.get(EvidenceFile, evidence_id)
    if evidence is None:
        raise NotFound(f"evidence {evidence_id} does not exist")
    return evidence


def visible_to(session: Session, user: User, files: list[EvidenceFile]) -> list[EvidenceFile]:
    """The files `user` may see: all for our own organisation; for a partner, those of its relationships
    attached to joint tasks (never our stages 1-4, never files attached to no task)."""
    if access.sees_everything(user):
        return files
    task_ids = {f.human_task_id for f in files if f.human_task_id}
    processes = dict(session.execute(select(HumanTask.id, HumanTask.process_id)
                                     .where(HumanTask.id.in_(task_ids))).all()) if task_ids else {}
    return [f for f in files if f.human_task_id in processes and access.joint_process(processes[f.human_task_id])
            and access.may_see(session, user, f.relationship_id)]


def download(session: Session, user: User, evidence_id: int, *, now: datetime) -> tuple[EvidenceFile, bytes]:
    """The file and its bytes; the download is recorded (assessors ask who read what). Raises NotFound, also
    for a file the user may not see."""
    evidence = get(session, evidence_id)
    if not visible_to(session, user, [evidence]):
        raise NotFound(f"evidence {evidence_id} does not exist")
    content = evidence.content
    record(session, "evidence.downloaded", actor=user, instance_id=evidence.instance_id, at=now,
           payload={"evidence_id": evidence.id, "filename": evidence.filename})
    session.commit()
    return evidence, content


def for_relationship(session: Session, relationship_id: int, *, superseded: bool = False) -> list[EvidenceFile]:
    """The relationship's evidence, newest first: current versions only unless `superseded`."""
    query = select(EvidenceFile).where(EvidenceFile.relationship_id == relationship_id)
    if not superseded:
        query = query.where(EvidenceFile.superseded_at.is_(None))
    return list(session.scalars(query.order_by(EvidenceFile.uploaded_at.desc(), EvidenceFile.id.desc())))


def for_task(session: Session, human_task_id: int) -> list[EvidenceFile]:
    return list(session.scalars(select(EvidenceFile).where(EvidenceFile.human_task_id == human_task_id)
                                .order_by(EvidenceFile.uploaded_at, EvidenceFile.id)))


def by_ids(session: Session, ids) -> dict[str, EvidenceFile]:
    """{str(id): file} for the ids that exist (form data keeps evidence ids as strings)."""
    numbers = {int(i) for i in ids if str(i).isdigit() and len(str(i)) < 12}
    if not numbers:
        return {}
    return {str(e.id): e for e in session.scalars(select(EvidenceFile).where(EvidenceFile.id.in_(numbers)))}


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"
