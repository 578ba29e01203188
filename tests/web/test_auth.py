"""Accounts: password hashing, cookies, CSRF on every form and on the API, sign-in limits."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from screener.web import auth
from screener.web.models import Patient, UserSession
from tests.web.helpers import PASSWORD, Clinician, World, add_user, count_rows, csrf_of

FORMS = [
    ("/patients", {"code": "X-1"}),
    ("/patients/{pid}/visits", {"pain": "3"}),
    ("/patients/{pid}/delete", {"confirm_code": "RUN-001"}),
    ("/recordings/{rid}/retry", {}),
    ("/recordings/{rid}/delete", {}),
    ("/account/tokens", {"name": "x"}),
    ("/logout", {}),
]


def test_password_is_stored_as_argon2id(sessions: Any) -> None:
    user = add_user(sessions, "carol")
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    with sessions() as s:
        assert auth.authenticate(s, "carol", PASSWORD) is not None
        assert auth.authenticate(s, "carol", PASSWORD + "x") is None
        assert auth.authenticate(s, "nobody", PASSWORD) is None


def test_short_password_and_bad_names_are_refused(sessions: Any) -> None:
    with sessions() as s:
        with pytest.raises(auth.AccountError, match="at least"):
            auth.create_user(s, "dave", "short")
        with pytest.raises(auth.AccountError, match="without spaces"):
            auth.create_user(s, "da ve", PASSWORD)
    add_user(sessions, "erin")
    with sessions() as s, pytest.raises(auth.AccountError, match="taken"):
        auth.create_user(s, "erin", PASSWORD)


def test_session_cookie_flags(app: Any, sessions: Any) -> None:
    add_user(sessions, "frank")
    with TestClient(app) as client:
        page = client.get("/login")
        response = client.post(
            "/login",
            data={"username": "frank", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
            follow_redirects=False,
        )
    cookie = next(
        v for k, v in response.headers.multi_items() if k == "set-cookie" and "session" in v
    )
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie  # plain http in auto mode
    token = cookie.split(";")[0].split("=", 1)[1]
    with sessions() as s:
        stored = s.query(UserSession).one()
        assert stored.token_hash == auth.sha256_hex(token) and token not in stored.token_hash


def test_secure_cookie_over_https(app: Any, sessions: Any) -> None:
    add_user(sessions, "gina")
    with TestClient(app, base_url="https://testserver") as client:
        page = client.get("/login")
        assert "Secure" in page.headers["set-cookie"]
        response = client.post(
            "/login",
            data={"username": "gina", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
            follow_redirects=False,
        )
        assert "Secure" in response.headers["set-cookie"]


def test_login_requires_the_form_token(app: Any, sessions: Any) -> None:
    add_user(sessions, "hank")
    with TestClient(app) as client:
        client.get("/login")
        response = client.post(
            "/login",
            data={"username": "hank", "password": PASSWORD, "csrf_token": "forged"},
            follow_redirects=False,
        )
        assert response.status_code == 403
        assert auth.SESSION_COOKIE not in client.cookies


@pytest.mark.parametrize("path,data", FORMS, ids=[f[0] for f in FORMS])
@pytest.mark.parametrize("token", [None, "wrong"], ids=["missing", "wrong"])
def test_forms_without_the_csrf_token_are_refused(
    path: str,
    data: dict[str, str],
    token: str | None,
    alice: Clinician,
    world: World,
    sessions: Any,
) -> None:
    url = path.format(pid=world.patient_id, rid=world.recording_id)
    body = dict(data) if token is None else {**data, "csrf_token": token}
    response = alice.client.post(url, data=body, headers={"Accept": "text/html"})
    assert response.status_code == 403
    assert "security token" in response.text
    assert count_rows(sessions, Patient) == 1
    assert alice.client.get(f"/recordings/{world.recording_id}").status_code == 200


def test_upload_without_csrf_is_refused(alice: Clinician, world: World) -> None:
    response = alice.client.post(
        f"/visits/{world.visit_id}/recordings",
        data={"kind": "walk"},
        files={"video": ("a.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\0" * 32, "video/mp4")},
    )
    assert response.status_code == 403


def test_api_with_session_cookie_needs_csrf_header(alice: Clinician, world: World) -> None:
    url = "/api/patients"
    assert alice.client.get(url).status_code == 200  # reading needs no token
    assert alice.client.post(url, json={"code": "API-2"}).status_code == 403
    ok = alice.client.post(url, json={"code": "API-2"}, headers={auth.CSRF_HEADER: alice.csrf})
    assert ok.status_code == 201
    bad = alice.client.delete(f"/api/patients/{world.patient_id}", headers={auth.CSRF_HEADER: "x"})
    assert bad.status_code == 403


def test_bearer_token_needs_no_csrf(app: Any, alice: Clinician) -> None:
    token = alice.post("/account/tokens", {"name": "ehr"}).text.split('id="new-token">')[1][:60]
    token = token.split("<")[0]
    with TestClient(app) as fresh:  # no cookies at all
        response = fresh.post(
            "/api/patients", json={"code": "EHR-1"}, headers={"Authorization": f"Bearer {token}"}
        )
    assert response.status_code == 201
    assert response.json()["code"] == "EHR-1"


def test_failed_sign_ins_are_rate_limited(app: Any, sessions: Any, settings: Any) -> None:
    add_user(sessions, "ivan")
    with TestClient(app) as client:
        token = csrf_of(client.get("/login").text)
        for _ in range(settings.login_max_failures):
            bad = client.post(
                "/login",
                data={"username": "ivan", "password": "nope-nope-nope", "csrf_token": token},
            )
            assert bad.status_code == 401
            assert "Wrong user name or password" in bad.text
        blocked = client.post(
            "/login", data={"username": "ivan", "password": PASSWORD, "csrf_token": token}
        )
        assert blocked.status_code == 429
        assert "Too many failed sign-ins" in blocked.text


def test_security_headers(anonymous: TestClient) -> None:
    response = anonymous.get("/login")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'self'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"


def test_open_redirect_after_login_is_refused(app: Any, sessions: Any) -> None:
    add_user(sessions, "judy")
    with TestClient(app) as client:
        token = csrf_of(client.get("/login").text)
        response = client.post(
            "/login",
            data={
                "username": "judy",
                "password": PASSWORD,
                "csrf_token": token,
                "next": "//evil.example/",
            },
            follow_redirects=False,
        )
    assert response.headers["location"] == "/patients"
