"""Uploads: type by content (not name), size limit, empty files, generated names only."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from screener.web import storage
from screener.web.app import create_app
from screener.web.models import Job, Recording
from screener.web.settings import WebSettings
from tests.web.helpers import (
    MP4_HEAD,
    SAMPLES,
    Clinician,
    FakeAnalysis,
    World,
    add_user,
    count_rows,
    make_world,
    run_jobs,
    sign_in,
)

HEADS = {
    "mp4": MP4_HEAD,
    "mov": b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  " + b"\0" * 16,
    "mov_old": b"\x00\x00\x10\x00moov" + b"\0" * 24,
    "webm": b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm" + b"\0" * 8,
    "mkv": b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska" + b"\0" * 8,
    "avi": b"RIFF\x00\x10\x00\x00AVI LIST" + b"\0" * 16,
}


@pytest.mark.parametrize(
    "name,expected",
    [
        ("mp4", "mp4"),
        ("mov", "mov"),
        ("mov_old", "mov"),
        ("webm", "webm"),
        ("mkv", "mkv"),
        ("avi", "avi"),
    ],
)
def test_sniff_recognises_containers(name: str, expected: str) -> None:
    assert storage.sniff_container(HEADS[name]) == expected


@pytest.mark.parametrize(
    "head",
    [
        b"hello, this is a text file pretending to be a video",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\0" * 16,
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj" + b"\0" * 16,
        b"RIFF\x00\x10\x00\x00WAVEfmt " + b"\0" * 16,  # RIFF but audio
        b"PK\x03\x04" + b"\0" * 30,
        b"\0" * 4,
        b"",
    ],
)
def test_sniff_refuses_other_content(head: bytes) -> None:
    assert storage.sniff_container(head) is None


def _upload(who: Clinician, visit_id: int, name: str, data: bytes, api: bool = False) -> Any:
    files = {"video": (name, data, "video/mp4")}
    if api:
        return who.client.post(
            f"/api/visits/{visit_id}/recordings",
            data={"kind": "walk"},
            files=files,
            headers={"X-CSRF-Token": who.csrf},
        )
    return who.post(f"/visits/{visit_id}/recordings", {"kind": "walk"}, files=files)


def _assert_nothing_stored(sessions: Any, settings: WebSettings, before: int = 1) -> None:
    assert count_rows(sessions, Recording) == before
    assert count_rows(sessions, Job) == before
    assert len(list(settings.uploads_dir.iterdir())) == before
    assert list(settings.tmp_dir.iterdir()) == []


@pytest.mark.parametrize("api", [False, True], ids=["page", "api"])
def test_text_named_mp4_is_refused(
    api: bool, alice: Clinician, world: World, sessions: Any, settings: WebSettings
) -> None:
    response = _upload(alice, world.visit_id, "clip.mp4", b"not a video at all\n" * 100, api)
    assert response.status_code == 415
    assert "not a video" in response.text
    _assert_nothing_stored(sessions, settings)


@pytest.mark.parametrize("api", [False, True], ids=["page", "api"])
def test_empty_file_is_refused(
    api: bool, alice: Clinician, world: World, sessions: Any, settings: WebSettings
) -> None:
    response = _upload(alice, world.visit_id, "clip.mp4", b"", api)
    assert response.status_code == 400
    assert "empty" in response.text
    _assert_nothing_stored(sessions, settings)


def test_real_video_with_a_wrong_name_is_accepted_by_content(
    alice: Clinician, world: World, settings: WebSettings, sessions: Any
) -> None:
    data = (SAMPLES / "sls_right_normal_post_30fps.mp4").read_bytes()
    response = _upload(alice, world.visit_id, "holiday-photo.jpg", data, api=True)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["container"] == "mp4" and body["size_bytes"] == len(data)
    assert body["job"]["status"] == "queued"
    with sessions() as s:
        rec = s.get(Recording, body["id"])
        stored = storage.upload_path(settings, rec.stored_name)
    assert stored.read_bytes() == data
    assert stored.name.endswith(".mp4") and "holiday" not in stored.name


def test_path_in_file_name_is_only_a_label(
    alice: Clinician, world: World, settings: WebSettings, sessions: Any
) -> None:
    response = _upload(alice, world.visit_id, "../../../../etc/cron.d/evil.mp4", MP4_HEAD, True)
    assert response.status_code == 201
    assert response.json()["original_name"] == "evil.mp4"
    names = [p.name for p in settings.uploads_dir.iterdir()]
    assert all(storage._STORED_NAME.match(n) for n in names)
    assert not (settings.data_dir.parent / "etc").exists()


def test_unknown_kind_is_refused(alice: Clinician, world: World) -> None:
    response = alice.post(
        f"/visits/{world.visit_id}/recordings",
        {"kind": "marathon"},
        files={"video": ("a.mp4", MP4_HEAD, "video/mp4")},
    )
    assert response.status_code == 400
    assert "kind must be one of" in response.text


@pytest.fixture()
def small_limit(tmp_path: Path) -> Iterator[tuple[Clinician, WebSettings, Any, World]]:
    """An app with a 3.5 MB upload limit and alice signed in."""
    settings = WebSettings(data_dir=tmp_path / "small", max_upload_mb=3.5)
    app = create_app(settings)
    sessions = app.state.sessions
    user = add_user(sessions, "alice")
    world = make_world(sessions, settings, user)
    with TestClient(app) as client:
        yield Clinician(client, user, sign_in(client, "alice")), settings, sessions, world


def test_file_over_the_limit_is_refused(small_limit: Any) -> None:
    who, settings, sessions, world = small_limit
    data = MP4_HEAD + b"\0" * 3_900_000  # passes the body cap, fails the exact limit
    assert settings.max_upload_bytes < len(data) < settings.max_upload_bytes + 1_000_000
    for api in (False, True):
        response = _upload(who, world.visit_id, "big.mp4", data, api)
        assert response.status_code == 413
        assert "3.5 MB" in response.text
    _assert_nothing_stored(sessions, settings)


def test_declared_body_over_the_limit_is_refused_before_reading(small_limit: Any) -> None:
    who, settings, sessions, world = small_limit
    data = MP4_HEAD + b"\0" * 5_000_000
    response = _upload(who, world.visit_id, "big.mp4", data, api=True)
    assert response.status_code == 413
    _assert_nothing_stored(sessions, settings)


def test_streamed_body_over_the_limit_is_cut_off(small_limit: Any) -> None:
    who, _settings, sessions, world = small_limit
    boundary = "b0undary"

    def body() -> Iterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nwalk\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="video"; filename="x.mp4"\r\n'
            "Content-Type: video/mp4\r\n\r\n"
        ).encode()
        yield MP4_HEAD
        for _ in range(60):  # 6 MB without a Content-Length
            yield b"\0" * 100_000
        yield f"\r\n--{boundary}--\r\n".encode()

    response = who.client.post(
        f"/api/visits/{world.visit_id}/recordings",
        content=body(),
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "X-CSRF-Token": who.csrf,
        },
    )
    assert response.status_code == 413
    assert count_rows(sessions, Recording) == 1


def test_save_upload_streams_and_hashes(settings: WebSettings) -> None:
    import hashlib

    data = MP4_HEAD + bytes(range(256)) * 10_000
    stored = storage.save_upload(io.BytesIO(data), settings)
    assert stored.size_bytes == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert storage.upload_path(settings, stored.stored_name).read_bytes() == data
    with pytest.raises(ValueError, match="not a stored upload name"):
        storage.upload_path(settings, "../screener.db")


@pytest.mark.parametrize("api", [False, True], ids=["page", "api"])
def test_the_camera_placement_entered_at_upload_reaches_the_analysis(
    api: bool, alice: Clinician, world: World, sessions: Any, settings: WebSettings
) -> None:
    files = {"video": ("squat.mp4", MP4_HEAD, "video/mp4")}
    data = {"kind": "sls_left", "lens_height_cm": "55", "camera_distance_m": "2.5"}
    if api:
        response = alice.client.post(
            f"/api/visits/{world.visit_id}/recordings",
            data=data,
            files=files,
            headers={"X-CSRF-Token": alice.csrf},
        )
        assert response.status_code == 201, response.text
        assert response.json()["lens_height_cm"] == 55.0
        assert response.json()["camera_distance_m"] == 2.5
    else:
        response = alice.post(f"/visits/{world.visit_id}/recordings", data, files=files)
        assert response.status_code in (200, 303), response.text
    with sessions() as s:
        (rec,) = [r for r in s.query(Recording).all() if r.kind == "sls_left"]
        assert rec.lens_height_cm == 55.0 and rec.camera_distance_m == 2.5
        page = alice.client.get(f"/recordings/{rec.id}")
    assert "lens 55 cm above the floor (as entered)" in page.text
    assert "lens 2.5 m from the patient (as entered)" in page.text
    analysis = FakeAnalysis()
    assert run_jobs(sessions, settings, analysis) >= 1
    (call,) = [c for c in analysis.calls if c["task"] == "sls"]
    assert call["lens_height_m"] == pytest.approx(0.55)
    assert call["camera_distance_m"] == pytest.approx(2.5)


@pytest.mark.parametrize("height", ["850", "2", "knee"])
def test_a_lens_height_no_stand_gives_is_refused_with_the_unit(
    height: str, alice: Clinician, world: World, sessions: Any, settings: WebSettings
) -> None:
    response = alice.post(
        f"/visits/{world.visit_id}/recordings",
        {"kind": "walk", "lens_height_cm": height},
        files={"video": ("a.mp4", MP4_HEAD, "video/mp4")},
    )
    assert response.status_code == 400
    assert "lens height must be" in response.text and "centimetres" in response.text
    _assert_nothing_stored(sessions, settings)


@pytest.mark.parametrize("distance", ["250", "0.1", "far"])
def test_a_camera_distance_no_room_gives_is_refused_with_the_unit(
    distance: str, alice: Clinician, world: World, sessions: Any, settings: WebSettings
) -> None:
    response = alice.post(
        f"/visits/{world.visit_id}/recordings",
        {"kind": "sls_left", "camera_distance_m": distance},
        files={"video": ("a.mp4", MP4_HEAD, "video/mp4")},
    )
    assert response.status_code == 400
    assert "camera distance must be" in response.text and "metres" in response.text
    _assert_nothing_stored(sessions, settings)
    api = alice.client.post(
        f"/api/visits/{world.visit_id}/recordings",
        data={"kind": "sls_left", "camera_distance_m": distance},
        files={"video": ("a.mp4", MP4_HEAD, "video/mp4")},
        headers={"X-CSRF-Token": alice.csrf},
    )
    assert api.status_code == 422
    _assert_nothing_stored(sessions, settings)


def test_an_empty_lens_height_is_not_given(alice: Clinician, world: World, sessions: Any) -> None:
    response = alice.post(
        f"/visits/{world.visit_id}/recordings",
        {"kind": "walk", "lens_height_cm": "", "camera_distance_m": ""},
        files={"video": ("a.mp4", MP4_HEAD, "video/mp4")},
    )
    assert response.status_code in (200, 303), response.text
    with sessions() as s:
        assert all(r.lens_height_cm is None for r in s.query(Recording).all())
        assert all(r.camera_distance_m is None for r in s.query(Recording).all())
