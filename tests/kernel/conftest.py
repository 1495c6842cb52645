import pytest

from tests.kernel.notice_receiver import Receiver

PORTAL = "https://portal.example.com"
WEBHOOK_SECRET = "test-webhook-secret-0123456789"


@pytest.fixture
def receiver():
    """A real HTTP server on 127.0.0.1 for the length of the test."""
    with Receiver() as server:
        yield server


@pytest.fixture
def channels(settings, receiver):
    """Notices go to the receiver as Slack (/slack/…) and as a generic webhook (/hooks/…)."""
    settings.PORTAL_BASE_URL = PORTAL
    settings.SLACK_WEBHOOK_URL = receiver.url("/slack/T000/B000/not-a-real-token")
    settings.WEBHOOK_URLS = [receiver.url("/hooks/siem")]
    settings.WEBHOOK_SECRET = WEBHOOK_SECRET
    return receiver
