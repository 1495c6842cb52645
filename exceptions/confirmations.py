"""What exceptions ask before a step ends one early (approvals.confirm)."""

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
