"""schemathesis against the OpenAPI document, on a real server on 127.0.0.1.

The server holds the bundled lifecycle and `seed-demo`'s users and relationships; its database is throw-away,
so destructive operations run too. Every operation gets a bounded number of generated requests (valid and
invalid ones, deterministic, no shrinking) as an administrator, then as a member of staff. Whatever they send:
never a 5xx, only documented status codes and content types, bodies that match the documented schemas (every
documented key present), and invalid requests refused with a 4xx.
"""

from __future__ import annotations

import base64
import threading
import time

import pytest
from werkzeug.serving import make_server

from app.config import ROOT

pytestmark = [pytest.mark.commits, pytest.mark.slow]  # a real server answers from its own threads

MAX_EXAMPLES = 12  # per operation and user: about a minute of CPU for both users on 2 cores
SEED = 20260131


@pytest.fixture
def server(app):
    """The app with the bundled lifecycle deployed and the demo seeded, served on a free port of 127.0.0.1."""
    from app.cli import main
    cli = app.test_cli_runner()
    deploy = ["deploy", str(ROOT / "bpmn"), "--forms", str(ROOT / "forms"), "-m", "the bundled lifecycle"]
    for args in (deploy, ["seed-demo"]):
        result = cli.invoke(main, args)
        assert result.exit_code == 0, result.output
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def bearer(app, username: str) -> tuple[str, int]:
    """A fresh token of a demo user -> (secret, token id)."""
    from app.auth.services import get_user
    from app.db import utcnow
    from app.tokens.services import create_token
    with app.extensions["collabflow"].sessions() as session:
        made = create_token(session, get_user(session, username), name="schemathesis", days=1, now=utcnow())
        session.commit()
        return made.secret, made.row.id


def existing_ids(app, token_id: int) -> dict[str, list[int]]:
    """Path parameter -> ids that exist on the server (never the caller's own token)."""
    from sqlalchemy import select

    from app.processes.models import HumanTask, ProcessInstance
    from app.tokens.models import ApiToken
    with app.extensions["collabflow"].sessions() as session:
        instances = sorted(session.scalars(select(ProcessInstance.id)))
        return {"relationship_id": instances, "instance_id": instances,
                "task_id": sorted(session.scalars(select(HumanTask.id))),
                "token_id": sorted(session.scalars(select(ApiToken.id).where(ApiToken.id != token_id)))}


def load_schema(base_url: str, headers: dict, known: dict[str, list[int]], token_id: int):
    import schemathesis
    from hypothesis import strategies as st
    from schemathesis import DataGenerationMethod

    schema = schemathesis.from_uri(f"{base_url}/api/v1/openapi.json", base_url=base_url, headers=headers,
                                   data_generation_methods=[DataGenerationMethod.positive,
                                                            DataGenerationMethod.negative])
    # schemathesis 3.39 lays out multipart parts from the body schema without resolving its $ref, and would
    # then send every file as a plain field (no filename): inline those schemas so that files go as files.
    components = schema.raw_schema["components"]["schemas"]
    for path in schema.raw_schema["paths"].values():
        for operation in (op for op in path.values() if isinstance(op, dict)):
            media = (operation.get("requestBody") or {}).get("content", {}).get("multipart/form-data")
            if media and "$ref" in media.get("schema", {}):
                media["schema"] = components[media["schema"]["$ref"].rsplit("/", 1)[-1]]

    @schema.hook("filter_path_parameters")
    def _keep_own_token(_context, path_parameters):
        """It may revoke any token but the one it is calling with."""
        return not isinstance(path_parameters, dict) or path_parameters.get("token_id") != token_id

    def valid_ids(path_parameters) -> bool:
        return all(type(value) is int and 1 <= value < 2**31
                   for name, value in path_parameters.items() if name in known)

    @schema.hook("flatmap_path_parameters")
    def _existing_ids(_context, path_parameters):
        """Random ids are nearly all 404s: about half the valid ones are swapped for ids that exist (invalid
        ones, which negative cases need, stay as they are)."""
        if (not isinstance(path_parameters, dict) or not known.keys() & path_parameters.keys()
                or not valid_ids(path_parameters)):
            return st.just(path_parameters)
        existing = st.fixed_dictionaries({
            name: st.sampled_from(known[name]) if known.get(name) else st.just(value)
            for name, value in path_parameters.items()})
        return st.one_of(st.just(path_parameters), existing)

    return schema


def describe(event, check) -> str:
    response, case = check.response, check.example
    body = base64.b64decode(response.body).decode("utf-8", "replace") if response and response.body else ""
    detail = getattr(check.context, "validation_message", None) or ""
    return (f"{event.verbose_name}: {check.name}: {check.message} {detail}\n"
            f"    sent {case.method} {case.url} query={case.query} body={str(case.body)[:300]}\n"
            f"    got {response.status_code if response else '?'} {body[:300]}")


def run_schemathesis(base_url: str, secret: str, known: dict[str, list[int]], token_id: int):
    """Run every operation -> (the failures as readable lines, how many operations passed/failed/errored)."""
    import hypothesis
    from hypothesis.internal.conjecture.utils import many
    from schemathesis.checks import not_a_server_error
    from schemathesis.runner import events, from_schema
    from schemathesis.specs.openapi import checks

    assert hasattr(many, "more"), (f"hypothesis {hypothesis.__version__} breaks hypothesis-jsonschema 0.23, "
                                   "which schemathesis 3 needs: install hypothesis<6.170.10")
    headers = {"Authorization": f"Bearer {secret}"}
    schema = load_schema(base_url, headers, known, token_id)
    settings = hypothesis.settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
                                   phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
                                   suppress_health_check=list(hypothesis.HealthCheck), print_blob=False)
    def negative_data_rejection(ctx, response, case):
        """schemathesis counts a query parameter made of an empty list as invalid data, but an empty list is
        sent as no parameter at all: the request on the wire is a valid one, and 200 is right for it."""
        if any(value == [] for value in (case.query or {}).values()):
            return True
        return checks.negative_data_rejection(ctx, response, case)
    negative_data_rejection.__name__ = "negative_data_rejection"

    chosen = [not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
              checks.response_headers_conformance, checks.response_schema_conformance, negative_data_rejection]
    runner = from_schema(schema, checks=chosen, headers=headers, hypothesis_settings=settings, seed=SEED,
                         request_timeout=30_000)
    failures, counts = [], {}
    for event in runner.execute():
        if isinstance(event, events.AfterExecution):
            counts[event.status.name] = counts.get(event.status.name, 0) + 1
            failures += [describe(event, check) for check in event.result.checks
                         if check.value.name == "failure"]
            failures += [f"{event.verbose_name}: error: {error.exception_with_traceback[-1500:]}"
                         for error in event.result.errors]
        elif isinstance(event, events.InternalError):
            failures.append(f"internal error: {event.message} {event.exception_with_traceback[-1500:]}")
    return failures, counts


@pytest.mark.parametrize("username", ["admin", "staff"])
def test_every_operation_conforms_to_the_openapi_document(app, server, username):
    secret, token_id = bearer(app, username)
    bearer(app, username)  # another of the caller's tokens, which it may revoke
    bearer(app, "ser")  # someone else's token: revoking it must be refused
    started = time.monotonic()
    failures, counts = run_schemathesis(server, secret, existing_ids(app, token_id), token_id)
    assert not failures, f"{len(failures)} failure(s) in {time.monotonic() - started:.0f}s:\n" + "\n".join(
        dict.fromkeys(failures))
    assert counts.get("success", 0) >= 25, counts  # every operation ran
