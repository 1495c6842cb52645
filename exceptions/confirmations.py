"""What exceptions ask before revoking one or withdrawing a request (approvals.confirm)."""

from approvals.confirm import Confirmation

REVOKE_EXCEPTION = Confirmation(
    url_name="exceptions:revoke",
    label="Revoke now…",
    title="Revoke exception #{t.pk}: {t.title}?",
    consequence=(
        "Decisions stop honouring it from the moment you confirm, and what it allowed "
        "{t.agent.slug} is refused again. It cannot be undone: a new exception needs approval."
    ),
    submit="Revoke exception",
    keep="Keep the exception",
    reason="Why is it revoked? (required; kept in the audit trail)",
)

WITHDRAW_EXCEPTION = Confirmation(
    url_name="exceptions:withdraw",
    label="Withdraw this request…",
    title="Withdraw exception request #{t.pk}: {t.title}?",
    consequence=(
        "Security stops seeing it in their queue and it can no longer be approved; it was "
        "never in force. To ask again, file a new exception."
    ),
    submit="Withdraw request",
    keep="Keep the request",
)
