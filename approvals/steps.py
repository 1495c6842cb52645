"""The Approve and Reject (or Deny) buttons of every approval workflow: one pair of views,
built per workflow from its loader, its services and its words.

Both take the optional `comment` the queue and the detail pages post; Approve says whether
this approval was the last one needed (`approved_message`), Reject says what happened. Who may
press them (security, never for their own) the services decide; the role gate is `post_step`'s.
"""

from collections.abc import Callable
from typing import Any

from approvals.rules import approved_message
from kernel.http import AuthenticatedHttpRequest, ViewFunc, post_step
from kernel.permissions import Action


def decision_steps(
    *,
    noun: str,
    subject: str,
    load: Callable[[Any, int], Any],
    approve: Callable[..., Any],
    refuse: Callable[..., Any],
    approved: str,
    outcome: str,
    refused: str = "rejected",
    note: Callable[[Any], str] = lambda done: "",
) -> tuple[ViewFunc, ViewFunc]:
    """(approve view, refuse view) for a workflow whose services take the object as `subject`
    (`exception=`, `binding=`, ...). `approved`: the status a final approval sets; `outcome`:
    what that means ("it is active"); `note(done)`: anything the service added to say."""

    def approve_step(request: AuthenticatedHttpRequest, target: Any) -> tuple[str, Any]:
        comment = request.POST.get("comment", "")
        done = approve(actor=request.user, comment=comment, **{subject: target})
        final = done.status == approved
        return approved_message(noun, done, final=final, outcome=outcome) + note(done), done

    def refuse_step(request: AuthenticatedHttpRequest, target: Any) -> tuple[str, Any]:
        refuse(actor=request.user, comment=request.POST.get("comment", ""), **{subject: target})
        return f"{noun.capitalize()} #{target.pk} {refused}.", target

    # Named after the services they call, for logs and tracebacks.
    approve_step.__name__ = approve_step.__qualname__ = approve.__name__
    refuse_step.__name__ = refuse_step.__qualname__ = refuse.__name__
    gate = post_step(Action.APPROVE, load=load)
    return gate(approve_step), gate(refuse_step)
