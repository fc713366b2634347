"""Record a real Label Studio round trip (not a test: run it by hand, see docs/label-studio.md).

Needs a scratch Label Studio on 127.0.0.1 (never a project dependency) and the `requests`
package of its venv:

    /tmp/ls-venv/bin/python tests/data/labelstudio/record_roundtrip.py \
        --url http://127.0.0.1:8089 --email admin@example.org --password ... \
        --tasks tasks.json --config config.xml --out tests/data/labelstudio

It logs in, creates a second annotator, creates a project with our labeling config, imports
our exported tasks (with their predictions), submits annotations as both users through the
API, and saves the project's JSON and JSON_MIN exports, the same two with annotators expanded
to their emails (a snapshot export), and the user list (id, email) under --out.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import requests

SECOND = "reviewer.two@example.org"


def login(url: str, email: str, password: str) -> requests.Session:
    s = requests.Session()
    s.get(f"{url}/user/login/").raise_for_status()
    r = s.post(
        f"{url}/user/login/",
        data={"email": email, "password": password},
        headers={"X-CSRFToken": s.cookies["csrftoken"], "Referer": f"{url}/user/login/"},
    )
    r.raise_for_status()
    s.headers.update({"X-CSRFToken": s.cookies["csrftoken"], "Referer": url})
    return s


def api(s: requests.Session, method: str, url: str, **kw) -> requests.Response:
    r = s.request(method, url, **kw)
    if r.status_code >= 400:
        raise SystemExit(f"{method} {url}: {r.status_code} {r.text[:500]}")
    return r


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--url", default="http://127.0.0.1:8089")
    p.add_argument("--email", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--tasks", type=Path, required=True)
    p.add_argument("--config", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    a = p.parse_args()
    url = a.url.rstrip("/")

    admin = login(url, a.email, a.password)
    me = api(admin, "GET", f"{url}/api/current-user/whoami").json()
    version = api(admin, "GET", f"{url}/api/version").json()
    users = api(admin, "GET", f"{url}/api/users/").json()
    second = next((u for u in users if u["email"] == SECOND), None)
    if second is None:
        second = api(
            admin,
            "POST",
            f"{url}/api/users/",
            json={"email": SECOND, "username": SECOND, "password": a.password},
        ).json()

    project = api(
        admin,
        "POST",
        f"{url}/api/projects",
        json={"title": "emosim review round trip", "label_config": a.config.read_text()},
    ).json()
    pid = project["id"]
    tasks = json.loads(a.tasks.read_text())
    api(admin, "POST", f"{url}/api/projects/{pid}/import", json=tasks)
    stored = api(
        admin, "GET", f"{url}/api/tasks", params={"project": pid, "page_size": 1000}
    ).json()
    stored = stored["tasks"] if isinstance(stored, dict) else stored

    def key(data: dict) -> tuple:
        return (data["conversation_id"], data["turn_index"], data["sentence_index"])

    ours = {key(t["data"]): t for t in tasks}  # the task list API omits predictions
    # annotations: the admin keeps the prediction except on client turns 0 and 2 (emotion ->
    # shame / anger; intensity of turn 0 -> 0.9) and on the first advisor turn (strategy ->
    # normalizing); the second
    # annotator reviews the first two tasks too and disagrees on the first.
    for n, task in enumerate(sorted(stored, key=lambda t: t["id"])):
        data = task["data"]
        results = []
        for field in data["fields"]:
            shown = None
            for pred in ours[key(data)].get("predictions") or []:
                for res in pred.get("result") or []:
                    if res["from_name"] == field:
                        value = res["value"]
                        shown = value["number"] if field == "intensity" else value["choices"][0]
            if field == "intensity":
                number = 0.9 if data["turn_index"] == 0 else shown
                if number is not None:
                    results.append(
                        {
                            "from_name": field,
                            "to_name": "text",
                            "type": "number",
                            "value": {"number": number},
                        }
                    )
                continue
            if field == "emotion" and data["turn_index"] in (0, 2):
                shown = "shame" if data["turn_index"] == 0 else "anger"
            if field == "strategy" and data["turn_index"] == 1:
                shown = "normalizing"
            if shown is not None:
                results.append(
                    {
                        "from_name": field,
                        "to_name": "text",
                        "type": "choices",
                        "value": {"choices": [shown]},
                    }
                )
        api(admin, "POST", f"{url}/api/tasks/{task['id']}/annotations/", json={"result": results})
        if n < 2:
            other = json.loads(json.dumps(results))
            if n == 0 and other:
                other[0]["value"]["choices"] = ["worry"]
            api(
                admin,
                "POST",
                f"{url}/api/tasks/{task['id']}/annotations/",
                json={"result": other, "completed_by": second["id"]},
            )

    a.out.mkdir(parents=True, exist_ok=True)
    people = api(admin, "GET", f"{url}/api/users/").json()
    (a.out / "users.json").write_text(
        json.dumps([{"id": u["id"], "email": u["email"]} for u in people], indent=1) + "\n"
    )
    for kind, name in (("JSON", "export_json.json"), ("JSON_MIN", "export_json_min.json")):
        r = api(admin, "GET", f"{url}/api/projects/{pid}/export", params={"exportType": kind})
        (a.out / name).write_text(json.dumps(r.json(), indent=1, ensure_ascii=False) + "\n")
    snapshot = api(
        admin,
        "POST",
        f"{url}/api/projects/{pid}/exports",
        json={
            "title": "expanded",
            "serialization_options": {"annotations__completed_by": {"only_id": False}},
        },
    ).json()
    for kind, name in (
        ("JSON", "export_json_expanded.json"),
        ("JSON_MIN", "export_json_min_expanded.json"),
    ):
        r = api(
            admin,
            "GET",
            f"{url}/api/projects/{pid}/exports/{snapshot['id']}/download",
            params={"exportType": kind},
        )
        (a.out / name).write_text(json.dumps(r.json(), indent=1, ensure_ascii=False) + "\n")
    print(json.dumps({"label_studio": version.get("release"), "admin": me["email"],
                      "second": second["email"], "project": pid}))  # fmt: skip


if __name__ == "__main__":
    main()
