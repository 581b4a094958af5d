"""Configuration: environment overrides, and no secret defaults in production."""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from campaign import ConfigurationError, create_app

ROOT = Path(__file__).resolve().parent.parent


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    env.update(extra)
    return env


def test_settings_come_from_flask_prefixed_environment_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("FLASK_SITE_URL", "https://act.example.org")
    monkeypatch.setenv("FLASK_MAIL_SERVER", "smtp.example.org")
    monkeypatch.setenv("FLASK_MAIL_PORT", "2525")
    monkeypatch.setenv("FLASK_MAIL_DEFAULT_SENDER", "Campaigns <hi@example.org>")
    monkeypatch.setenv("FLASK_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("FLASK_SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path}/x.sqlite")
    monkeypatch.setenv("FLASK_EMAIL_CHECK_DELIVERABILITY", "true")
    app = create_app()
    assert app.config["SITE_URL"] == "https://act.example.org"
    assert app.config["MAIL_SERVER"] == "smtp.example.org"
    assert app.config["MAIL_PORT"] == 2525
    assert app.config["MAIL_DEFAULT_SENDER"] == "Campaigns <hi@example.org>"
    assert app.config["SECRET_KEY"] == "x" * 40
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("x.sqlite")
    assert app.config["EMAIL_CHECK_DELIVERABILITY"] is True
    assert app.extensions["mail"].port == 2525


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.delenv("FLASK_SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    with pytest.raises(ConfigurationError, match="FLASK_SECRET_KEY is not set"):
        create_app()


def test_production_refuses_a_short_secret_key(monkeypatch):
    monkeypatch.setenv("FLASK_SECRET_KEY", "changeme")
    with pytest.raises(ConfigurationError, match="too short"):
        create_app()


def test_debug_uses_a_random_key_kept_in_the_instance_folder(monkeypatch):
    monkeypatch.delenv("FLASK_SECRET_KEY", raising=False)
    monkeypatch.setenv("FLASK_DEBUG", "1")
    first, second = create_app(), create_app()
    assert len(first.config["SECRET_KEY"]) >= 32
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]


def test_gunicorn_without_a_secret_key_exits_with_a_clear_message():
    gunicorn = Path(sys.executable).with_name("gunicorn")
    result = subprocess.run(
        [str(gunicorn), "app:create_app()", "--bind", "127.0.0.1:0", "--workers", "1"],
        cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "FLASK_SECRET_KEY is not set" in result.stderr


def test_the_repositorys_gunicorn_configuration_serves_the_site(tmp_path):
    """`make serve` the production way: gunicorn with gunicorn.conf.py
    (gthread workers) answers, and its access log line carries the request
    id the visitor was given but neither the client address nor the path."""
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "-c", "gunicorn.conf.py", "app:create_app()"], cwd=ROOT,
        env=clean_env(FLASK_SECRET_KEY="k" * 40, FLASK_SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/site.sqlite",
                      GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS="2", GUNICORN_THREADS="2",
                      # Two workers need a shared limit store (see the next test): here, none.
                      FLASK_RATELIMIT_ENABLED="false"),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz?secret-token", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        assert response.status == 200
        request_id = response.headers["X-Request-ID"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "gthread" in output  # the threaded workers, not the sync default
    [line] = [line for line in output.splitlines() if f"request_id={request_id}" in line]
    assert line.startswith('"GET" 200')
    assert "127.0.0.1" not in line and "secret-token" not in line and "healthz" not in line


@pytest.mark.parametrize(("workers", "limits", "starts"), [
    ("2", {}, False),                                       # memory:// under two workers: refused
    ("1", {}, True),                                        # one worker: its memory is the only one
    ("2", {"FLASK_RATELIMIT_ENABLED": "false"}, True),      # limits off (a load test): nothing to share
])
def test_limits_kept_in_memory_refuse_to_start_under_several_workers(tmp_path, workers, limits, starts):
    """Limits in each worker's memory would multiply with the workers (three
    workers once let 30 sign POSTs a minute through a limit of 10)."""
    gunicorn = Path(sys.executable).with_name("gunicorn")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [str(gunicorn), "-c", "gunicorn.conf.py", "app:create_app()"], cwd=ROOT,
        env=clean_env(FLASK_SECRET_KEY="k" * 40, FLASK_SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/site.sqlite",
                      GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS=workers, GUNICORN_THREADS="1", **limits),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        answered = False
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and server.poll() is None:
            try:
                answered = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).status == 200
                break
            except OSError:
                time.sleep(0.2)
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert answered is starts, output[-2000:]
    if not starts:
        assert "FLASK_RATELIMIT_STORAGE_URI=redis://" in output
