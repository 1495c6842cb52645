"""What access asks before a step takes access away or withdraws a request (approvals.confirm)."""

from approvals.confirm import Confirmation

REVOKE_GRANT = Confirmation(
    url_name="access:grant-revoke",
    label="Revoke…",
    title="Revoke grant #{t.pk}: {t.capability.key} for {t.agent.slug}?",
    consequence=(
        "Decisions deny this access from the moment you confirm. It cannot be undone: the "
        "agent needs a new request to get it back."
    ),
    submit="Revoke grant",
    keep="Keep the grant",
    reason="Why is it revoked? (required; kept in the audit trail)",
)

CANCEL_REQUEST = Confirmation(
    url_name="access:request-cancel",
    label="Cancel this request…",
    title="Cancel request #{t.pk}: {t.capability.key} for {t.agent.slug}?",
    consequence=(
        "Security stops seeing it in their queue and it can no longer be approved. To ask again, "
        "file a new request."
    ),
    submit="Cancel request",
    keep="Keep the request",
)

DECLINE_REQUEST = Confirmation(
    url_name="access:request-decline",
    label="Decline…",
    title="Decline request #{t.pk}: {t.capability.key} for {t.agent.slug}?",
    consequence=(
        "The agent asked for this itself; declined, it is cancelled and security never sees "
        "it. The agent reads your reason when it asks where the request stands."
    ),
    submit="Decline request",
    keep="Keep it awaiting",
    reason="Why should the agent not have it? (required)",
)
