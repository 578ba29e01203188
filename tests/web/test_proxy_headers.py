"""Forwarded headers are believed only from the operator's proxies; HSTS on https."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.types import Receive, Scope, Send

from screener.errors import ConfigError
from screener.web.app import TrustedProxyHeaders, create_app
from screener.web.runtime_models import LoginThrottle
from screener.web.settings import WebSettings, load_settings
from tests.web.helpers import PASSWORD, add_user, csrf_of


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    """An ASGI app answering ``<client address> <scheme>``."""
    body = f"{scope['client'][0]} {scope['scheme']}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def seen(trusted: list[str], peer: str, headers: dict[str, str]) -> str:
    """What the app behind the middleware sees for a request from ``peer``."""
    settings = WebSettings(trusted_proxies=tuple(trusted))
    app = TrustedProxyHeaders(echo, settings.trusted_proxy_networks)
    return TestClient(app, client=(peer, 1234)).get("/", headers=headers).text


FORGED = {"X-Forwarded-For": "192.0.2.99", "X-Forwarded-Proto": "https"}


def test_by_default_forwarded_headers_are_ignored_even_from_localhost() -> None:
    assert seen([], "127.0.0.1", FORGED) == "127.0.0.1 http"
    assert seen([], "198.51.100.1", FORGED) == "198.51.100.1 http"


def test_headers_from_an_untrusted_peer_are_ignored() -> None:
    assert seen(["10.0.0.5"], "198.51.100.1", FORGED) == "198.51.100.1 http"


def test_a_trusted_proxy_names_the_client_and_the_scheme() -> None:
    assert seen(["10.0.0.5"], "10.0.0.5", FORGED) == "192.0.2.99 https"
    # the client cannot prepend its own choice: the right-most untrusted hop counts
    chain = {"X-Forwarded-For": "192.0.2.1, 203.0.113.9", "X-Forwarded-Proto": "http"}
    assert seen(["10.0.0.5"], "10.0.0.5", chain) == "203.0.113.9 http"
    # proxies of a trusted network are skipped
    chain = {"X-Forwarded-For": "203.0.113.9, 10.0.0.7"}
    assert seen(["10.0.0.0/24"], "10.0.0.5", chain) == "203.0.113.9 http"
    # garbage stops the walk at the last address a trusted proxy vouched for
    chain = {"X-Forwarded-For": "203.0.113.9, not-an-ip, 10.0.0.7"}
    assert seen(["10.0.0.0/24"], "10.0.0.5", chain) == "10.0.0.7 http"
    assert seen(["10.0.0.5"], "10.0.0.5", {"X-Forwarded-Proto": "gopher"}) == "10.0.0.5 http"


def test_settings_of_trusted_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCREENER_TRUSTED_PROXIES", "10.0.0.5, 2001:db8::/32")
    assert load_settings().trusted_proxies == ("10.0.0.5", "2001:db8::/32")
    monkeypatch.setenv("SCREENER_TRUSTED_PROXIES", "proxy.example")
    with pytest.raises(ConfigError, match="not an IP address or network"):
        load_settings()


def test_a_forged_forwarded_for_does_not_dodge_the_sign_in_limit(
    settings: WebSettings, sessions: Any, app: Any
) -> None:
    add_user(sessions, "alice")
    limit = settings.login_max_failures
    statuses = []
    for i in range(limit + 2):
        with TestClient(app, client=("127.0.0.1", 5000 + i)) as client:
            token = csrf_of(client.get("/login").text)
            response = client.post(
                "/login",
                data={"username": "alice", "password": "wrong-wrong", "csrf_token": token},
                headers={"X-Forwarded-For": f"192.0.2.{i + 1}"},
            )
            statuses.append(response.status_code)
    assert statuses == [401] * limit + [429, 429]
    with sessions() as s:
        keys = set(s.scalars(select(LoginThrottle.key)))
    assert keys == {"pair:alice|127.0.0.1", "addr:127.0.0.1", "acct:alice"}


def test_a_forged_owner_address_does_not_skip_the_account_back_off(
    settings: WebSettings, sessions: Any, app: Any
) -> None:
    add_user(sessions, "alice")

    def sign_in_from(peer: str, password: str, forged: str | None = None) -> int:
        headers = {"X-Forwarded-For": forged} if forged else {}
        with TestClient(app, client=(peer, 5000)) as client:
            token = csrf_of(client.get("/login").text)
            return client.post(
                "/login",
                data={"username": "alice", "password": password, "csrf_token": token},
                headers=headers,
                follow_redirects=False,
            ).status_code

    assert sign_in_from("192.0.2.10", PASSWORD) == 303  # the owner's clinic is now known
    limit = settings.login_max_failures
    attackers = [sign_in_from(f"203.0.113.{i}", "wrong-wrong", "192.0.2.10") for i in range(9)]
    assert attackers == [401] * limit + [429] * (9 - limit)


def test_trusted_proxy_addresses_are_counted(settings: WebSettings, sessions: Any) -> None:
    app = create_app(settings.model_copy(update={"trusted_proxies": ("10.0.0.5",)}))
    add_user(app.state.sessions, "alice")
    with TestClient(app, client=("10.0.0.5", 5000)) as client:
        token = csrf_of(client.get("/login").text)
        client.post(
            "/login",
            data={"username": "alice", "password": "wrong-wrong", "csrf_token": token},
            headers={"X-Forwarded-For": "198.51.100.23"},
        )
    with app.state.sessions() as s:
        keys = set(s.scalars(select(LoginThrottle.key)))
    assert "addr:198.51.100.23" in keys and "addr:10.0.0.5" not in keys


def test_hsts_only_over_https(settings: WebSettings) -> None:
    app = create_app(settings.model_copy(update={"trusted_proxies": ("10.0.0.5",)}))
    with TestClient(app, base_url="https://testserver") as direct:
        assert direct.get("/login").headers["strict-transport-security"] == "max-age=31536000"
    with TestClient(app) as plain:
        assert "strict-transport-security" not in plain.get("/login").headers
        forged = plain.get("/login", headers={"X-Forwarded-Proto": "https"})
        assert "strict-transport-security" not in forged.headers
        assert "Secure" not in forged.headers["set-cookie"]
    with TestClient(app, client=("10.0.0.5", 5000)) as proxied:
        page = proxied.get("/login", headers={"X-Forwarded-Proto": "https"})
        assert page.headers["strict-transport-security"] == "max-age=31536000"
        assert "Secure" in page.headers["set-cookie"]


def test_hsts_can_be_turned_off(settings: WebSettings) -> None:
    app = create_app(settings.model_copy(update={"hsts_seconds": 0}))
    with TestClient(app, base_url="https://testserver") as client:
        assert "strict-transport-security" not in client.get("/login").headers
