"""A client that knows only the API and its tokens walks a relationship on the bundled lifecycle from its start
to stage 5: each next task read from the relationship, its form schema fetched, valid data filled in, completed
by whichever of its people may complete it."""

from __future__ import annotations

import io

from tests.support.driver import cite_evidence, fill_form

PEOPLE = ["staff", "ser", "ser2", "jmt", "pser"]  # ser2: four eyes at stage 4 (the SER who selected cannot approve)


def test_walk_to_stage_5_through_the_api(api, bundled, session, services, users):
    from app.db import utcnow
    from tests.support.driver import approve_organisation
    approve_organisation(session, services, users, utcnow())  # stages 1 and 3 are the organisation's, done once
    clients = {name: api(name) for name in PEOPLE}
    staff = clients["staff"]
    started = staff.post("relationships", {"title": "Tailspin partnership", "partner": "Tailspin Toys"})
    assert started.status_code == 201, started.get_json()
    rel = started.get_json()
    completed_by = []
    for _step in range(120):
        shown = staff.get(f"relationships/{rel['id']}").get_json()
        if shown["progress"]["stage"] == 5:
            break
        lifecycle_tasks = [t for t in shown["tasks"] if t["stage"]["number"]]
        assert lifecycle_tasks, shown
        task = lifecycle_tasks[0]
        for name in PEOPLE:  # whoever may complete it
            detail = clients[name].get(f"tasks/{task['id']}")
            if detail.status_code == 200 and detail.get_json()["may_complete"]:
                break
        else:
            raise AssertionError(f"nobody may complete {task['name']}")
        detail = detail.get_json()
        data = fill_form(detail["schema"] or {}, detail["data"]) if detail["schema"] else {}
        upload = lambda key, c=clients[name], t=task["id"]: _upload(c, t, key)  # noqa: E731
        data = cite_evidence(detail["schema"] or {}, data, upload)
        done = clients[name].post(f"tasks/{task['id']}/complete", {"data": data})
        assert done.status_code == 200, (task["name"], done.get_json())
        completed_by.append(name)
    else:
        raise AssertionError("did not reach stage 5")
    assert shown["progress"]["label"].startswith("Stage 5") and shown["status"] == "running"
    assert set(completed_by) == {"staff", "ser", "ser2"}  # staff prepared, SERs decided (a second one at stage 4)
    trail = staff.get(f"relationships/{rel['id']}/events?action=task.completed&per_page=500").get_json()
    assert trail["total"] == len(completed_by)
    assert {e["actor"] for e in trail["items"]} == {"staff", "ser", "ser2"}
    assert any(t["role"] == "jmt" or t["lane"] == "Partner SER" for t in shown["tasks"]), shown["tasks"]


def _upload(client, task_id, field):
    uploaded = client.client.post(f"/api/v1/tasks/{task_id}/evidence?field={field}", headers=client.headers(),
                                  data={"file": (io.BytesIO(b"%PDF-1.4 evidence"), f"{field}.pdf")},
                                  content_type="multipart/form-data")
    assert uploaded.status_code == 201, uploaded.get_json()
    return uploaded.get_json()["id"]
