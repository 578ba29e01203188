"""Every route's access rule: signed out, another clinician, the owner.

The table ``CASES`` lists every route of the app; ``test_every_route_is_covered`` fails when
a route is added without an access rule here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from screener.web import auth
from tests.web.helpers import MP4_HEAD, Clinician, World


@dataclass(frozen=True)
class Case:
    """One route: how to call it and what the owner gets."""

    method: str
    path: str
    owner_status: int
    data: dict[str, Any] = field(default_factory=dict)
    json: dict[str, Any] | None = None
    upload: bool = False
    scoped: bool = True  # the path names one of the owner's objects

    @property
    def api(self) -> bool:
        return self.path.startswith("/api/")

    def url(self, w: World) -> str:
        return self.path.format(pid=w.patient_id, vid=w.visit_id, rid=w.recording_id, tid=1)


CASES = [
    # pages
    Case("GET", "/patients", 200, scoped=False),
    Case("POST", "/patients", 303, data={"code": "NEW-1"}, scoped=False),
    Case("GET", "/patients/{pid}", 200),
    Case("POST", "/patients/{pid}/visits", 303, data={"pain": "4", "visit_date": "2025-02-01"}),
    Case("POST", "/patients/{pid}/edit", 303, data={"code": "RUN-002"}),
    Case("POST", "/patients/{pid}/doses", 303, data={"clamshell.sets": "2"}),
    Case("GET", "/patients/{pid}/export", 200),
    Case("GET", "/patients/{pid}/delete", 200),
    Case("POST", "/patients/{pid}/delete", 303, data={"confirm_code": "RUN-001"}),
    Case("GET", "/visits/{vid}", 200),
    Case("POST", "/visits/{vid}/recordings", 303, data={"kind": "jog"}, upload=True),
    Case("POST", "/visits/{vid}/edit", 303, data={"pain": "5", "rest_pain": "1"}),
    Case("GET", "/visits/{vid}/delete", 200),
    Case("POST", "/visits/{vid}/delete", 303),
    Case("GET", "/visits/{vid}/report.html", 200),
    Case("GET", "/visits/{vid}/report.pdf", 200),
    Case("GET", "/visits/{vid}/handout.html", 200),
    Case("GET", "/visits/{vid}/handout.pdf", 200),
    Case("GET", "/recordings/{rid}", 200),
    Case("GET", "/recordings/{rid}/status", 200),
    Case("GET", "/recordings/{rid}/report.html", 200),
    Case("GET", "/recordings/{rid}/report.pdf", 200),
    Case("POST", "/recordings/{rid}/retry", 303),
    Case("GET", "/recordings/{rid}/delete", 200),
    Case("POST", "/recordings/{rid}/delete", 303),
    Case("GET", "/account", 200, scoped=False),
    Case("POST", "/account/tokens", 200, data={"name": "ehr"}, scoped=False),
    Case(
        "POST",
        "/account/password",
        400,
        data={"current": "wrong", "new": "x" * 12, "repeat": "x" * 12},
        scoped=False,
    ),
    Case("POST", "/account/tokens/{tid}/delete", 303),
    Case("POST", "/logout", 303, scoped=False),
    # JSON API
    Case("GET", "/api/me", 200, scoped=False),
    Case("GET", "/api/patients", 200, scoped=False),
    Case("POST", "/api/patients", 201, json={"code": "API-1"}, scoped=False),
    Case("GET", "/api/patients/{pid}", 200),
    Case("DELETE", "/api/patients/{pid}", 204),
    Case("GET", "/api/patients/{pid}/export", 200),
    Case("GET", "/api/patients/{pid}/trends", 200),
    Case("GET", "/api/patients/{pid}/visits", 200),
    Case("POST", "/api/patients/{pid}/visits", 201, json={"pain": 3, "first_line_done": True}),
    Case("GET", "/api/visits/{vid}", 200),
    Case("POST", "/api/visits/{vid}/recordings", 201, data={"kind": "walk"}, upload=True),
    Case("GET", "/api/recordings/{rid}", 200),
    Case("DELETE", "/api/recordings/{rid}", 204),
    Case("POST", "/api/recordings/{rid}/retry", 200),
    Case("GET", "/api/recordings/{rid}/files/report.pdf", 200),
]
#: Routes anyone may call (sign-in, health, the API description, static files).
PUBLIC = {
    ("GET", "/"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/healthz"),
    ("GET", "/api/openapi.json"),
}


def _route_key(case: Case) -> tuple[str, str]:
    path = case.path.replace("{pid}", "{patient_id}").replace("{vid}", "{visit_id}")
    path = path.replace("{rid}", "{recording_id}").replace("{tid}", "{token_id}")
    return case.method, path.replace("files/report.pdf", "files/{name}")


def _app_routes(app: Any) -> set[tuple[str, str]]:
    """(method, path) of every HTTP route, whatever FastAPI's internal layout."""
    try:
        from fastapi.routing import iter_route_contexts  # FastAPI >= 0.16x
    except ImportError:
        items: list[Any] = list(app.routes)
    else:
        items = list(iter_route_contexts(app.routes))
    routes = set()
    for item in items:
        methods = getattr(item, "methods", None) or set()
        routes |= {(m, item.path) for m in methods if m != "HEAD"}
    return routes


def test_every_route_is_covered(app: Any) -> None:
    routes = _app_routes(app)
    covered = {_route_key(c) for c in CASES} | PUBLIC
    assert routes - covered == set(), "routes without an access test"
    assert covered - routes == set(), "access tests of routes that do not exist"


def _call(client: Any, case: Case, w: World, csrf: str = "", token: str = "") -> Any:
    headers = {"Accept": "application/json" if case.api else "text/html"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    kwargs: dict[str, Any] = {"headers": headers, "follow_redirects": False}
    if case.json is not None:
        kwargs["json"] = case.json
    if case.data or (case.method == "POST" and not case.api):
        kwargs["data"] = {**case.data, **({"csrf_token": csrf} if csrf else {})}
    if case.upload:
        kwargs["files"] = {"video": ("clip.mp4", MP4_HEAD, "video/mp4")}
    return client.request(case.method, case.url(w), **kwargs)


def _token(who: Clinician) -> str:
    page = who.post("/account/tokens", {"name": "test"})
    assert page.status_code == 200
    marker = 'id="new-token">'
    start = page.text.index(marker) + len(marker)
    token = page.text[start : page.text.index("<", start)]
    assert token.startswith(auth.TOKEN_PREFIX)
    return token


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.path}")
def test_signed_out_is_refused(case: Case, anonymous: Any, world: World) -> None:
    response = _call(anonymous, case, world)
    if case.api:
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
    else:
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.scoped], ids=lambda c: f"{c.method} {c.path}"
)
def test_other_clinician_gets_404(
    case: Case, alice: Clinician, bob: Clinician, world: World
) -> None:
    if "{tid}" in case.path:
        _token(alice)  # token 1 is alice's
    token = _token(bob) if case.api else ""
    response = _call(bob.client, case, world, csrf=bob.csrf, token=token)
    assert response.status_code == 404, response.text
    # nothing of alice's changed
    assert alice.client.get(f"/patients/{world.patient_id}").status_code == 200
    assert alice.client.get(f"/recordings/{world.recording_id}").status_code == 200


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.path}")
def test_owner_is_allowed(case: Case, alice: Clinician, world: World) -> None:
    if "{tid}" in case.path:
        _token(alice)
    token = _token(alice) if case.api else ""
    response = _call(alice.client, case, world, csrf=alice.csrf, token=token)
    assert response.status_code == case.owner_status, response.text


def test_lists_show_only_own_patients(alice: Clinician, bob: Clinician, world: World) -> None:
    assert "RUN-001" in alice.client.get("/patients").text
    assert "RUN-001" not in bob.client.get("/patients").text
    api = bob.client.get("/api/patients", headers={"Authorization": f"Bearer {_token(bob)}"})
    assert api.status_code == 200 and api.json() == []
    mine = alice.client.get("/api/patients", headers={"Authorization": f"Bearer {_token(alice)}"})
    assert [p["code"] for p in mine.json()] == ["RUN-001"]


def test_same_code_allowed_for_two_clinicians(
    alice: Clinician, bob: Clinician, world: World
) -> None:
    assert bob.post("/patients", {"code": "RUN-001"}).status_code == 303
    again = alice.post("/patients", {"code": "RUN-001"})
    assert again.status_code == 400 and "already have a patient" in again.text


def test_revoked_or_invalid_token_is_refused(alice: Clinician, world: World) -> None:
    token = _token(alice)
    headers = {"Authorization": f"Bearer {token}"}
    assert alice.client.get("/api/me", headers=headers).json()["username"] == "alice"
    assert alice.post("/account/tokens/1/delete").status_code == 303
    assert alice.client.get("/api/me", headers=headers).status_code == 401
    bad = {"Authorization": "Bearer scr_not-a-token"}
    assert alice.client.get("/api/me", headers=bad).status_code == 401


def test_signed_out_session_is_dead(alice: Clinician, world: World) -> None:
    cookie = alice.client.cookies.get(auth.SESSION_COOKIE)
    assert cookie is not None
    assert alice.post("/logout").status_code == 303
    alice.client.cookies.set(auth.SESSION_COOKIE, cookie)  # replay the old cookie
    response = alice.client.get("/patients", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
