"""The FastAPI application: middleware, error handling, templates, and the two routers."""

from __future__ import annotations

import ipaddress
import logging
import warnings
from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic.warnings import UnsupportedFieldAttributeWarning
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from screener import __version__
from screener.web import auth
from screener.web.access import CsrfError, NotAuthenticatedError
from screener.web.settings import WebSettings
from screener.web.templating import HERE, templates

log = logging.getLogger(__name__)


#: Body size allowed for requests other than uploads.
SMALL_BODY_BYTES = 1_000_000
#: Room for the multipart framing and form fields around an uploaded video.
MULTIPART_OVERHEAD_BYTES = 1_000_000

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'"
)


class BodyTooLarge(HTTPException):
    """The request body exceeds the limit (answered with 413)."""

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(
            status_code=413,
            detail=f"the upload is larger than the limit of {limit_bytes / 1e6:g} MB",
        )


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


class TrustedProxyHeaders:
    """ASGI middleware: believe ``X-Forwarded-For``/``-Proto`` only from named proxies.

    When the connection comes from one of ``trusted`` (the operator's reverse proxies),
    the client is the right-most address of ``X-Forwarded-For`` that is not itself a
    trusted proxy, and the scheme is the last value of ``X-Forwarded-Proto`` (``http`` or
    ``https``). From any other peer both headers are ignored: a client cannot choose the
    address the sign-in limits count, nor claim https.

    Parameters
    ----------
    app
        The wrapped application.
    trusted
        Networks of the trusted proxies (none: the headers are never used).
    """

    def __init__(self, app: ASGIApp, trusted: Sequence[IPv4Network | IPv6Network]) -> None:
        self.app = app
        self.trusted = tuple(trusted)

    def _is_trusted(self, address: str) -> bool:
        ip = _ip(address)
        return ip is not None and any(ip in net for net in self.trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] in ("http", "websocket") and client and self._is_trusted(client[0]):
            headers = {k.lower(): v for k, v in scope.get("headers") or []}
            scope = dict(scope)
            forwarded = headers.get(b"x-forwarded-for")
            if forwarded is not None:
                hops = [h.strip() for h in forwarded.decode("latin-1").split(",")]
                address = client[0]
                for hop in reversed(hops):
                    if _ip(hop) is None:
                        break  # garbage: keep the last address we can vouch for
                    address = hop
                    if not self._is_trusted(hop):
                        break
                scope["client"] = (str(_ip(address)), 0)
            proto = headers.get(b"x-forwarded-proto")
            if proto is not None:
                last = proto.decode("latin-1").split(",")[-1].strip().lower()
                if last in ("http", "https"):
                    websocket = scope["type"] == "websocket"
                    scope["scheme"] = last.replace("http", "ws") if websocket else last
        await self.app(scope, receive, send)


class LimitsAndHeaders:
    """ASGI middleware: caps request bodies and adds security headers to every response.

    Parameters
    ----------
    app
        The wrapped application.
    upload_limit
        Largest body of an upload request (``.../recordings``), bytes.
    hsts_seconds
        ``max-age`` of the Strict-Transport-Security header on https requests (0: none).
    """

    def __init__(self, app: ASGIApp, upload_limit: int, hsts_seconds: int = 0) -> None:
        self.app = app
        self.upload_limit = upload_limit
        self.hsts = f"max-age={hsts_seconds}".encode() if hsts_seconds > 0 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = self.upload_limit if path.endswith("/recordings") else SMALL_BODY_BYTES
        headers = dict(scope.get("headers") or [])
        hsts = self.hsts if scope.get("scheme") == "https" else None
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            response = JSONResponse({"detail": BodyTooLarge(limit).detail}, status_code=413)
            await response(scope, receive, self._with_headers(send, hsts))
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited, self._with_headers(send, hsts))

    @staticmethod
    def _with_headers(send: Send, hsts: bytes | None) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"SAMEORIGIN"),
                    (b"cache-control", b"no-store"),
                    (b"content-security-policy", CSP.encode()),
                ]
                if hsts is not None:
                    extra.append((b"strict-transport-security", hsts))
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in extra if k not in present
                ]
            await send(message)

        return wrapped


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "text/html" not in request.headers.get(
        "accept", ""
    )


def _error_page(request: Request, status: int, message: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"detail": message}, status_code=status)
    return templates.TemplateResponse(
        request,
        "error.html",
        {"status": status, "message": message, "who": None},
        status_code=status,
    )


def ignore_form_alias_warning() -> None:
    """Silence pydantic's false alarm about the alias of a FastAPI form field.

    Notes
    -----
    FastAPI builds a type adapter for each form field with the field's ``alias`` and
    silences pydantic's ``UnsupportedFieldAttributeWarning`` about it inside
    ``warnings.catch_warnings()``. That context manager swaps a process-wide filter list
    and is not thread-safe: when two threads build adapters at once, one can restore the
    list while the other is still inside, and the false alarm reaches the log (seen in the
    concurrent sign-in test). Only that message is ignored; any other
    ``UnsupportedFieldAttributeWarning`` still shows.
    """
    warnings.filterwarnings(
        "ignore",
        message=r"The 'alias' attribute with value '\w+' was provided to the `Field\(\)` function",
        category=UnsupportedFieldAttributeWarning,
    )


def create_app(
    settings: WebSettings, sessions: sessionmaker[Session] | None = None, migrate: bool = True
) -> FastAPI:
    """Build the application.

    Parameters
    ----------
    settings
        The web settings.
    sessions
        Session factory; one for ``settings.db_url`` if None.
    migrate
        Apply the database migrations first.

    Returns
    -------
    FastAPI
    """
    from screener.web import db, routes_api, routes_pages

    ignore_form_alias_warning()
    settings.ensure_dirs()
    if sessions is None:
        engine = db.make_engine(settings)
        if migrate:
            db.upgrade_database(settings, engine)
        sessions = db.make_sessionmaker(engine)
    app = FastAPI(
        title="ITB movement-fault screener",
        version=__version__,
        description=(
            "Clinic web app of the screener. The JSON API under /api takes a bearer token "
            "(Authorization: Bearer scr_...; create one on the Account page or with "
            "`screener create-token`). Outputs support a clinician's judgement; they "
            "never diagnose."
        ),
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.sessions = sessions
    app.state.limiter = auth.LoginLimiter(settings)
    app.add_middleware(
        LimitsAndHeaders,
        upload_limit=settings.max_upload_bytes + MULTIPART_OVERHEAD_BYTES,
        hsts_seconds=settings.hsts_seconds,
    )
    # Added last, so it runs first: the client address and scheme are settled before
    # anything reads them.
    app.add_middleware(TrustedProxyHeaders, trusted=settings.trusted_proxy_networks)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(routes_pages.router)
    app.include_router(routes_api.router)

    @app.exception_handler(NotAuthenticatedError)
    async def _not_authenticated(request: Request, exc: NotAuthenticatedError) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse(
                {"detail": "not authenticated"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        target = request.url.path if request.method == "GET" else "/patients"
        if request.url.query and request.method == "GET":
            target += "?" + request.url.query
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(CsrfError)
    async def _csrf(request: Request, exc: CsrfError) -> Response:
        return _error_page(
            request,
            403,
            "the form's security token is missing or out of date; reload the page and try again",
        )

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        response = _error_page(request, exc.status_code, str(exc.detail))
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": _jsonable_errors(exc)}, status_code=422)
        fields = ", ".join(str(e["loc"][-1]) for e in exc.errors())
        return _error_page(request, 422, f"missing or invalid form fields: {fields}")

    return app


def _jsonable_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type", "")}
        for e in exc.errors()
    ]
