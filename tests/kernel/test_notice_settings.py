"""Notice settings are checked when the portal starts, and links are absolute."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from kernel.env import env_url, env_url_list
from kernel.notice_channels import signature
from kernel.notifications import link

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "value",
    [
        "ftp://hooks.example.com/x",
        "hooks.slack.com/services/T0/B0/SECRETTOKEN",
        "https://",
        "https://hooks.example.com:port/x",
        "https://hooks.example.com/a b",
    ],
)
def test_a_bad_webhook_address_is_refused_naming_the_setting_not_the_secret(monkeypatch, value):
    monkeypatch.setenv("WEBHOOK_URLS", f"https://ok.example.com/a,{value}")
    with pytest.raises(ImproperlyConfigured) as refused:
        env_url_list("WEBHOOK_URLS")
    message = str(refused.value)
    assert message.startswith("WEBHOOK_URLS must hold absolute http(s) URLs")
    assert "SECRETTOKEN" not in message


def test_good_addresses_are_read_trimmed_and_once(monkeypatch):
    monkeypatch.setenv("WEBHOOK_URLS", " https://a.example/x , http://b.example:8080/y,,")
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "")
    assert env_url_list("WEBHOOK_URLS") == ["https://a.example/x", "http://b.example:8080/y"]
    assert env_url("SLACK_WEBHOOK_URL") == ""
    assert env_url("PORTAL_BASE_URL", "http://127.0.0.1:8000") == "http://127.0.0.1:8000"


def _start(**env: str) -> subprocess.CompletedProcess:
    variables = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", **env}
    for name in ("PORTAL_BASE_URL", "SLACK_WEBHOOK_URL", "WEBHOOK_URLS", "WEBHOOK_SECRET"):
        if name not in env:
            variables.pop(name, None)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=variables,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"WEBHOOK_URLS": "https://siem.example/in,not-a-url"}, "WEBHOOK_URLS must hold"),
        ({"WEBHOOK_URLS": "https://siem.example/in"}, "WEBHOOK_SECRET must be too"),
        ({"SLACK_WEBHOOK_URL": "hooks.slack.com/services/x"}, "SLACK_WEBHOOK_URL must hold"),
        ({"PORTAL_BASE_URL": "portal.example.com"}, "PORTAL_BASE_URL must hold"),
    ],
)
def test_the_portal_does_not_start_with_bad_notice_settings(env, message):
    started = _start(**env)
    assert started.returncode != 0
    assert "ImproperlyConfigured" in started.stderr
    assert message in started.stderr


def test_the_portal_starts_with_good_notice_settings():
    started = _start(
        PORTAL_BASE_URL="https://portal.example.com/",
        SLACK_WEBHOOK_URL="https://hooks.slack.com/services/T0/B0/x",
        WEBHOOK_URLS="https://siem.example/in,https://chatops.example/hook",
        WEBHOOK_SECRET="a-long-enough-shared-secret",
    )
    assert started.returncode == 0, started.stderr


def test_links_are_absolute_from_a_path_a_url_name_or_an_address(settings):
    settings.PORTAL_BASE_URL = "https://portal.example.com"
    assert link("/approvals/") == "https://portal.example.com/approvals/"
    assert link("access:request-detail", 7) == "https://portal.example.com/requests/7/"
    assert link("registry:agent-detail", slug="pay-bot") == (
        "https://portal.example.com/agents/pay-bot/"
    )
    assert link("https://elsewhere.example/x") == "https://elsewhere.example/x"


def test_the_signature_is_the_hex_hmac_sha256_of_the_body():
    # what a receiver computes: echo -n '{"a":1}' | openssl dgst -sha256 -hmac key
    assert signature(b'{"a":1}', "key") == (
        "sha256=88a67f24bbcdaed0e6c997404bb79a743baf44c6bab2f4c27328e3009d22e342"
    )
