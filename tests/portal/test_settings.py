import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from kernel.env import env_bool, env_int, env_list

ROOT = Path(__file__).resolve().parents[2]
PROD_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 60 + "-production-secret-for-the-deploy-check",
    "ALLOWED_HOSTS": "portal.example.com",
}


def _run(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "ALLOWED_HOSTS"}
    }
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "portal.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


SHOW = "import django; django.setup(); from django.conf import settings as s; print({})"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("true", True),
        ("YES", True),
        ("on", True),
        ("0", False),
        ("false", False),
        ("no", False),
        ("", False),
    ],
)
def test_env_bool_reads_common_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("FLAG", raw)
    assert env_bool("FLAG") is expected


def test_env_bool_refuses_nonsense_with_a_message(monkeypatch):
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FLAG must be one of"):
        env_bool("FLAG")


def test_env_list_and_int(monkeypatch):
    monkeypatch.setenv("HOSTS", " a.example.com, b.example.com ,")
    monkeypatch.setenv("N", "12")
    assert env_list("HOSTS") == ["a.example.com", "b.example.com"]
    assert env_int("N", 3) == 12
    monkeypatch.setenv("N", "twelve")
    with pytest.raises(ImproperlyConfigured, match="whole number"):
        env_int("N", 3)


def test_embedded_default_is_sqlite_with_eager_celery():
    out = _run(SHOW.format("s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, s.DEBUG"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "django.db.backends.sqlite3 True True"


def test_database_url_and_broker_switch_to_postgres_and_redis():
    out = _run(
        SHOW.format(
            "s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'], "
            "s.CELERY_TASK_ALWAYS_EAGER, s.CELERY_BROKER_URL"
        ),
        DATABASE_URL="postgres://portal@db.internal:5432/portal_prod",
        CELERY_BROKER_URL="redis://cache.internal:6379/1",
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [
        "django.db.backends.postgresql",
        "portal_prod",
        "False",
        "redis://cache.internal:6379/1",
    ]


def test_refuses_to_start_without_secret_key_when_debug_is_off():
    out = _run(SHOW.format("s.SECRET_KEY"), DEBUG="false", ALLOWED_HOSTS="portal.example.com")
    assert out.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in out.stderr


def test_allowed_hosts_from_environment():
    out = _run(SHOW.format("s.ALLOWED_HOSTS"), **PROD_ENV)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['portal.example.com']"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"DECISION_RETENTION_DAYS": "0"},
            "DECISION_RETENTION_DAYS must be a whole number of days",
        ),
        ({"DECISION_RETENTION_DAYS": "1000000"}, "from 1 to 36500"),
        (
            {"DECISION_RETENTION_DAYS": "90", "ACTIVITY_RETENTION_DAYS": "400"},
            "ACTIVITY_RETENTION_DAYS must not exceed DECISION_RETENTION_DAYS",
        ),
    ],
)
def test_retention_settings_refuse_what_would_break_pruning_or_the_log(env, message):
    result = _run(SHOW.format("s.DECISION_RETENTION_DAYS"), **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    out = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **{
                k: v
                for k, v in os.environ.items()
                if k not in {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
            },
            **PROD_ENV,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout


@pytest.mark.parametrize("debug", ["true", "false"])
def test_a_refused_request_is_logged_once(debug):
    """Django's own console handler (DEBUG only) used to print each django.request line a
    second time, beside the root's."""
    env = {**PROD_ENV, "DEBUG": debug}
    result = _run(
        "import django, logging; django.setup(); "
        "logging.getLogger('django.request').warning('Bad Request: /probe/')",
        **env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("Bad Request: /probe/") == 1, result.stderr
