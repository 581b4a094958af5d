"""Configuration: environment overrides, and no secret defaults in production."""
import os
import subprocess
import sys
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
