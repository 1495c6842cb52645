"""The channels a notice goes out on, each delivery an outbox row of its own.

- email: one message to the people concerned (`send`);
- Slack: one Block Kit message to SLACK_WEBHOOK_URL (an incoming webhook), when set;
- webhooks: a JSON POST to each of WEBHOOK_URLS, the body
  `{"event", "object_type", "object_id", "url", "occurred_at", "data"}` signed with
  WEBHOOK_SECRET as `X-Portal-Signature: sha256=<hex HMAC-SHA256 of the body>`.

Everything is rendered when the notice is queued; delivery only sends. A receiver that does not
answer 2xx within WEBHOOK_TIMEOUT_SECONDS is a failed attempt: the outbox retries that row
alone with backoff and, after its last attempt, keeps it as failed with the error. Rows hold
no secret: webhook addresses (whose path is often the secret) and the signing key are read
from the settings when sending; a row names its receiver by a fingerprint and its origin.
"""

import hashlib
import hmac
import json
import urllib.error
import urllib.request
import uuid
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder

from kernel import outbox
from kernel.notice_event import Event

EMAIL = "kernel.notice.email"
SLACK = "kernel.notice.slack"
WEBHOOK = "kernel.notice.webhook"

SIGNATURE_HEADER = "X-Portal-Signature"
USER_AGENT = "agent-governance-portal/notices"
SLACK_TEXT_LIMIT = 2900  # Slack refuses a section over 3,000 characters
ANSWER_EXCERPT = 200


class DeliveryFailed(Exception):
    """A receiver did not take the message; the outbox records this and tries again."""


def one_line(text: str) -> str:
    """`text` as one header line: subjects carry titles people typed, and a CR or LF in a
    header is refused by Django (BadHeaderError) after the change already committed."""
    return " ".join(part.strip() for part in text.replace("\x00", "").splitlines()).strip()


def send(subject: str, body: str, recipients: list[str]) -> int:
    recipients = [r for r in recipients if r]
    if not recipients:
        return 0
    return send_mail(
        f"[Agent portal] {one_line(subject)}", body, settings.DEFAULT_FROM_EMAIL, recipients
    )


def email_body(event: Event) -> str:
    return f"{event.body.rstrip()}\n\nOpen it in the portal: {event.url}\n"


def _slack_escape(text: str) -> str:
    # Slack reads <...> as links and mentions (<!channel>): what people typed stays text.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(event: Event) -> dict[str, Any]:
    """A Block Kit message: the subject linking to the object, the body, a button, the event."""
    title = _slack_escape(one_line(event.subject))[:300]
    body = _slack_escape(event.body.strip())[:SLACK_TEXT_LIMIT]
    when = f"{event.occurred_at:%Y-%m-%d %H:%M} UTC"
    return {
        "text": f"{title}: {event.url}",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*<{event.url}|{title}>*"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": body or title}},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open in the portal"},
                        "url": event.url,
                    }
                ],
            },
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"`{event.name}` · {when}"}],
            },
        ],
    }


def webhook_body(event: Event) -> str:
    """The exact text POSTed (and signed): compact JSON, keys sorted, times ISO 8601 UTC."""
    document = {
        "event": event.name,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "url": event.url,
        "occurred_at": event.occurred_at,
        "data": dict(event.data),
    }
    return json.dumps(document, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":"))


def signature(body: bytes, secret: str) -> str:
    """The X-Portal-Signature value: `sha256=` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def fingerprint(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def origin(url: str) -> str:
    """`scheme://host[:port]`: how messages name a receiver without its (secret) path."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def messages_for(event: Event) -> list[tuple[str, dict[str, Any]]]:
    """The outbox messages for `event`: one per channel that is configured."""
    messages: list[tuple[str, dict[str, Any]]] = []
    recipients = sorted({address for address in event.recipients if address})
    if recipients:
        email = {"subject": event.subject, "body": email_body(event), "recipients": recipients}
        messages.append((EMAIL, {"event": event.name, **email}))
    if settings.SLACK_WEBHOOK_URL:
        messages.append((SLACK, {"event": event.name, "message": slack_message(event)}))
    body = webhook_body(event) if settings.WEBHOOK_URLS else ""
    for url in settings.WEBHOOK_URLS:
        receiver = {"target": fingerprint(url), "destination": origin(url)}
        delivery = uuid.uuid4().hex  # the same on every retry: receivers drop duplicates by it
        messages.append(
            (WEBHOOK, {"event": event.name, **receiver, "delivery": delivery, "body": body})
        )
    return messages


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx is an answer (a failed one), never a hop with the signed body


_opener = urllib.request.build_opener(_NoRedirects)


def post_json(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST `body`; anything but a 2xx answer within the timeout raises DeliveryFailed."""
    where = origin(url)
    request = urllib.request.Request(  # noqa: S310 (http(s) only: checked at start, kernel.env)
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
    )
    try:
        with _opener.open(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as answer:
            answer.read(64 * 1024)
            status = answer.status
    except urllib.error.HTTPError as exc:
        excerpt = exc.read(ANSWER_EXCERPT).decode("utf-8", "replace").strip()
        raise DeliveryFailed(f"{where} answered HTTP {exc.code}: {excerpt or exc.reason}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryFailed(f"{where} could not be reached: {reason}") from exc
    if not 200 <= status < 300:
        raise DeliveryFailed(f"{where} answered HTTP {status}")
    return status


@outbox.handler(EMAIL)
def deliver_email(*, subject: str, body: str, recipients: list[str], **_: Any) -> int:
    return send(subject, body, recipients)


@outbox.handler(SLACK)
def deliver_slack(*, message: dict[str, Any], **_: Any) -> int:
    url = settings.SLACK_WEBHOOK_URL
    if not url:
        raise DeliveryFailed("SLACK_WEBHOOK_URL is no longer set")
    return post_json(url, json.dumps(message).encode(), {})


@outbox.handler(WEBHOOK)
def deliver_webhook(
    *, event: str, target: str, destination: str, delivery: str, body: str, **_: Any
) -> int:
    url = next((u for u in settings.WEBHOOK_URLS if fingerprint(u) == target), None)
    if url is None:
        raise DeliveryFailed(f"the webhook at {destination} is no longer in WEBHOOK_URLS")
    raw = body.encode()
    headers = {
        SIGNATURE_HEADER: signature(raw, settings.WEBHOOK_SECRET),
        "X-Portal-Event": event,
        "X-Portal-Delivery": delivery,
    }
    return post_json(url, raw, headers)
