"""Settings from the environment and options; the admin commands; nothing written outside."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from screener.cli import main
from screener.errors import ConfigError
from screener.web.app import create_app
from screener.web.settings import load_settings
from tests.web.helpers import PASSWORD


def test_settings_from_environment_and_overrides(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SCREENER_DATA_DIR", str(tmp_path / "env-data"))
    monkeypatch.setenv("SCREENER_MAX_UPLOAD_MB", "250")
    monkeypatch.setenv("SCREENER_KEEP_VIDEOS", "false")
    settings = load_settings()
    assert settings.data_dir == tmp_path / "env-data"
    assert settings.max_upload_bytes == 250_000_000 and settings.keep_videos is False
    assert settings.db_url == f"sqlite:///{(tmp_path / 'env-data' / 'screener.db').resolve()}"
    override = load_settings(data_dir=tmp_path / "cli", keep_videos=True, max_upload_mb=None)
    assert override.data_dir == tmp_path / "cli" and override.keep_videos is True
    assert override.max_upload_mb == 250  # None options leave the environment's value
    pg = load_settings(database_url="postgresql+psycopg://u:p@db/screener")
    assert pg.db_url == "postgresql+psycopg://u:p@db/screener"


def test_invalid_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCREENER_MAX_UPLOAD_MB", "lots")
    with pytest.raises(ConfigError, match="SCREENER_MAX_UPLOAD_MB"):
        load_settings()
    monkeypatch.setenv("SCREENER_MAX_UPLOAD_MB", "10")
    monkeypatch.setenv("SCREENER_SECURE_COOKIES", "sometimes")
    with pytest.raises(ConfigError, match="SCREENER_SECURE_COOKIES"):
        load_settings()


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))


def test_create_user_and_token_commands(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(tmp_path / "data")
    _stdin(monkeypatch, PASSWORD + "\n")
    assert main(["create-user", "kim", "--password-stdin", "--data-dir", data]) == 0
    _stdin(monkeypatch, PASSWORD + "\n")
    assert main(["create-user", "kim", "--password-stdin", "--data-dir", data]) == 1
    assert "taken" in capsys.readouterr().err
    _stdin(monkeypatch, "short\n")
    assert main(["create-user", "lee", "--password-stdin", "--data-dir", data]) == 1
    assert "at least" in capsys.readouterr().err
    assert main(["create-token", "nobody", "--data-dir", data]) == 1
    assert main(["create-token", "kim", "--name", "ehr", "--data-dir", data]) == 0
    token = capsys.readouterr().out.strip()
    app = create_app(load_settings(data_dir=Path(data)))
    with TestClient(app) as client:
        me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["username"] == "kim"


def test_web_commands_are_registered(capsys: pytest.CaptureFixture[str]) -> None:
    for command, option in (
        ("serve", "--database-url"),
        ("serve", "--no-worker"),
        ("serve", "--max-upload-mb"),
        ("serve", "--trusted-proxies"),
        ("worker", "--lease-seconds"),
        ("worker", "--keep-videos"),
        ("create-user", "--password-stdin"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            main([command, "--help"])
        assert exit_info.value.code == 0
        assert option in capsys.readouterr().out


def test_worker_writes_only_inside_the_data_folder(tmp_path: Path) -> None:
    home, cwd, data = tmp_path / "home", tmp_path / "cwd", tmp_path / "data"
    home.mkdir()
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCREENER_", "XDG_", "MPL"))}
    env.update(HOME=str(home), TMPDIR=str(tmp_path / "no-such-tmp"))
    run = subprocess.run(
        [sys.executable, "-m", "screener.cli", "worker", "--once", "--data-dir", str(data)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert (data / "logs" / "worker.log").read_text().count("worker") >= 2
    assert (data / "screener.db").is_file()
    assert list(home.iterdir()) == [] and list(cwd.iterdir()) == []


def test_serve_starts_a_worker_that_ends_with_it(tmp_path: Path) -> None:
    import socket
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    data = tmp_path / "data"
    serve = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "screener.cli",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(data),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker_log = data / "logs" / "worker.log"
    try:
        deadline = time.monotonic() + 90
        while not (worker_log.is_file() and "started" in worker_log.read_text()):
            assert time.monotonic() < deadline, "no worker started"
            time.sleep(0.2)
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "the server did not answer"
                time.sleep(0.2)
    finally:
        serve.kill()  # not even a chance to clean up
        serve.wait(timeout=30)
    deadline = time.monotonic() + 60
    while "stopped after" not in worker_log.read_text():
        assert time.monotonic() < deadline, "the worker outlived its server"
        time.sleep(0.2)
    assert "server that started this worker is gone" in worker_log.read_text()
