"""Production settings: refuse to start half-configured, pass Django's deployment checks."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from apps.core.tests.isolated import run_json, run_manage, run_python, settings_values

PRODUCTION = "config.settings.production"


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {
        "DJANGO_SETTINGS_MODULE": PRODUCTION,
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "teach.example.org",
        "EMAIL_URL": "smtp://mail.internal:25",
        "DATA_DIR": str(tmp_path),
    }
    env.update(overrides)
    return env


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "EMAIL_URL"])
def test_production_refuses_to_start_without(missing: str, tmp_path: Path) -> None:
    env = production_env(tmp_path)
    del env[missing]

    result = run_python(f"import {PRODUCTION}", env=env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr.strip().splitlines()[-1]


def test_production_without_email_is_allowed_when_verification_is_off(tmp_path: Path) -> None:
    env = production_env(tmp_path, ACCOUNT_EMAIL_VERIFICATION="none")
    del env["EMAIL_URL"]

    result = run_python(f"import {PRODUCTION}", env=env)

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "servers",
    [
        {},
        {
            "DATABASE_URL": "postgres://teacher:pw@db.internal:5432/onlineteacher",
            "REDIS_URL": "redis://redis.internal:6379/0",
            "EMAIL_URL": "smtp+tls://mailer:pw@mail.internal:587",
        },
    ],
    ids=["embedded", "servers"],
)
def test_check_deploy_has_nothing_to_report(tmp_path: Path, servers: dict[str, str]) -> None:
    result = run_manage("check", "--deploy", env=production_env(tmp_path, **servers))

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "no issues" in output
    assert "WARNINGS" not in output


def test_production_logs_json_lines_by_default(tmp_path: Path) -> None:
    values = settings_values(PRODUCTION, ["LOG_FORMAT", "LOGGING"], env=production_env(tmp_path))

    assert values["LOG_FORMAT"] == "json"
    assert values["LOGGING"]["handlers"]["console"]["formatter"] == "json"


def test_production_redirects_to_https_except_health_endpoints(tmp_path: Path) -> None:
    """Probes speak plain HTTP to the process; everyone else is sent to HTTPS."""
    code = """
        import json, django
        django.setup()
        from django.test import Client
        client = Client()
        answers = {}
        for path in ("/healthz", "/readyz", "/"):
            response = client.get(path)
            answers[path] = [response.status_code, response.headers.get("Location")]
        print(json.dumps(answers))
    """
    env = production_env(tmp_path, ALLOWED_HOSTS="testserver", LOG_LEVEL="CRITICAL")

    answers = run_json(code, env=env)

    assert answers["/healthz"] == [200, None]
    assert answers["/readyz"] == [200, None]
    assert answers["/"] == [301, "https://testserver/"]
