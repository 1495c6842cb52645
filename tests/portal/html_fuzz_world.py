"""The world tests/portal/test_html_fuzz.py posts into: the demo (`seed_demo`: people of every
role, agents, requests, grants, exceptions, bindings, a published policy, the catalogues) and
what it lacks (a policy draft, a binding and an access request waiting for someone, flagged
activity, a failed delivery, evidence and an evidence package), and the URL arguments of every
HTML page, picked so that each step's target is in a state where the step may run: hostile
input then reaches the form and the service, not only the status check."""

import datetime
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone

from access.models import AccessRequest, Grant, RequestStatus
from compliance.models import EvidencePackage
from controls.models import Control, EvidenceFile, Framework, FrameworkItem, Mapping
from credentials.models import BindingStatus, IdentityBinding, TrustProvider
from decisions.models import Activity, ReviewStatus
from exceptions.models import PolicyException
from kernel.models import OutboxMessage, OutboxStatus
from registry.models import Agent, Capability
from registry.services.policy import policy_draft_create

FRAMEWORK = "owasp-agentic-top10-2026"
APPLICABILITY = ("nist-csf-2.0", "PR.AA-06")  # a framework item security may rule out of scope
AGENT = "payments-fixer"  # alice's (the demo engineer), production


def build() -> dict[str, Any]:
    call_command("seed_demo", verbosity=0)
    alice, sam = User.objects.get(username="alice"), User.objects.get(username="sam")
    agent = Agent.objects.get(slug=AGENT)
    control = Control.objects.order_by("ref_id").first()
    assert control is not None
    world: dict[str, Any] = {
        "agent": agent,
        "draft": policy_draft_create(actor=sam),
        "provider": TrustProvider.objects.order_by("pk").first(),
        "control": control,
        "mapping": Mapping.objects.filter(control=control).order_by("pk").first(),
        "pending_request": AccessRequest.objects.filter(
            status=RequestStatus.PENDING, requested_by=alice
        ).first(),
        "break_glass": AccessRequest.objects.filter(
            break_glass=True, break_glass_reviewed_at=None
        ).first(),
        "grant": Grant.objects.filter(request__requested_by=alice).order_by("pk").first(),
        "pending_exception": PolicyException.objects.filter(
            status="pending", requested_by=alice
        ).first(),
        "active_exception": PolicyException.objects.filter(
            status="active", requested_by=alice
        ).first(),
        "awaiting_request": _awaiting_owner(agent, alice),
        "pending_binding": IdentityBinding.objects.create(
            agent=agent,
            provider=TrustProvider.objects.order_by("pk").first(),
            subject="repo:acme/payments:ref:refs/heads/fuzz",
            requested_by=alice,
            required_approvals=1,
            status=BindingStatus.PENDING,
        ),
        "activity": Activity.objects.create(
            agent_slug=AGENT,
            capability_key="github:write",
            outcome="success",
            occurred_at=timezone.now(),
            reported_by=User.objects.get(username="gateway"),
            flagged=True,
            review_status=ReviewStatus.PENDING,
        ),
        "delivery": OutboxMessage.objects.create(
            handler="tests.receiver",
            payload={"n": 1, "event": "tests.event1"},
            status=OutboxStatus.FAILED,
            attempts=5,
            last_error="ConnectionError: refused",
            next_attempt_at=timezone.now(),
        ),
        "evidence": _evidence(control, sam),
        "package": EvidencePackage.objects.create(
            framework=Framework.objects.get(key=FRAMEWORK),
            period_from=datetime.date(2026, 1, 1),
            period_to=datetime.date(2026, 1, 31),
            requested_by=User.objects.get(username="audrey"),
        ),
    }
    assert all(value is not None for value in world.values()), world
    return world


def _awaiting_owner(agent: Agent, owner: User) -> AccessRequest:
    """A request its agent filed, waiting for alice (its owner) to confirm or decline."""
    return AccessRequest.objects.create(
        agent=agent,
        capability=Capability.objects.get(key="github:read"),
        requested_by=owner,
        justification="the agent asked",
        duration_hours=4,
        status=RequestStatus.AWAITING_OWNER,
        effect="approval",
        policy_version=1,
        required_approvals=1,
    )


def _evidence(control: Control, uploader: User) -> EvidenceFile:
    evidence = EvidenceFile(
        sha256="0" * 64,
        original_name="scan.pdf",
        size=17,
        control=control,
        uploaded_by=uploader,
        effective_on=datetime.date(2026, 1, 15),
    )
    evidence.file.save("scan.pdf", ContentFile(b"%PDF-1.4 evidence"), save=True)
    return evidence


def _item() -> dict[str, str]:
    return {"key": APPLICABILITY[0], "ref_id": APPLICABILITY[1]}


def _report_control(w: dict) -> dict[str, str]:
    item = FrameworkItem.objects.filter(framework__key=FRAMEWORK, mappings__isnull=False).first()
    control = item.mappings.first().control if item else w["control"]
    return {"key": FRAMEWORK, "ref_id": control.ref_id}


Args = Callable[[dict], list[dict[str, Any]]]

# The URL arguments of each HTML page that takes any: a list, to post to a page in more than
# one state or with more than one step in its path (an agent's suspend, retire, attest, ...).
ARGS: dict[str, Args] = {
    "delivery-retry": lambda w: [{"pk": w["delivery"].pk}],
    "registry:agent-detail": lambda w: [{"slug": AGENT}],
    "registry:agent-edit": lambda w: [{"slug": AGENT}],
    "registry:agent-reassign": lambda w: [{"slug": AGENT}],
    "registry:agent-transition": lambda w: [
        {"slug": AGENT, "transition": step}
        for step in ("suspend", "reactivate", "retire", "attest", "no-such-step")
    ],
    "registry:policy-draft-save": lambda w: [{"number": w["draft"].number}],
    "registry:policy-publish": lambda w: [{"number": w["draft"].number}],
    "registry:policy-discard": lambda w: [{"number": w["draft"].number}],
    "access:request-detail": lambda w: [{"pk": w["pending_request"].pk}],
    "access:request-approve": lambda w: [{"pk": w["pending_request"].pk}],
    "access:request-deny": lambda w: [{"pk": w["pending_request"].pk}],
    "access:request-cancel": lambda w: [{"pk": w["pending_request"].pk}],
    "access:request-confirm": lambda w: [{"pk": w["awaiting_request"].pk}],
    "access:request-decline": lambda w: [{"pk": w["awaiting_request"].pk}],
    "access:request-review-break-glass": lambda w: [{"pk": w["break_glass"].pk}],
    "access:grant-detail": lambda w: [{"pk": w["grant"].pk}],
    "access:grant-revoke": lambda w: [{"pk": w["grant"].pk}],
    "decisions:review-submit": lambda w: [{"pk": w["activity"].pk}],
    "credentials:provider-edit": lambda w: [{"slug": w["provider"].slug}],
    "credentials:provider-delete": lambda w: [{"slug": w["provider"].slug}],
    "credentials:binding-approve": lambda w: [{"pk": w["pending_binding"].pk}],
    "credentials:binding-reject": lambda w: [{"pk": w["pending_binding"].pk}],
    "credentials:binding-add": lambda w: [{"slug": AGENT}],
    "credentials:binding-remove": lambda w: [{"slug": AGENT, "pk": w["pending_binding"].pk}],
    "compliance:package": lambda w: [{"pk": w["package"].pk}],
    "compliance:package-download": lambda w: [{"pk": w["package"].pk}],
    "compliance:report": lambda w: [{"key": FRAMEWORK}],
    "compliance:package-request": lambda w: [{"key": FRAMEWORK}],
    "compliance:control-records": lambda w: [_report_control(w)],
    "compliance:control-records-csv": lambda w: [_report_control(w)],
    "compliance:report-export": lambda w: [{"key": FRAMEWORK, "fmt": "csv"}],
    "controls:control": lambda w: [{"ref_id": w["control"].ref_id}],
    "controls:control-edit": lambda w: [{"ref_id": w["control"].ref_id}],
    "controls:mapping-add": lambda w: [{"ref_id": w["control"].ref_id}],
    "controls:mapping-edit": lambda w: [{"ref_id": w["control"].ref_id, "pk": w["mapping"].pk}],
    "controls:mapping-delete": lambda w: [{"ref_id": w["control"].ref_id, "pk": w["mapping"].pk}],
    "controls:evidence-add": lambda w: [{"ref_id": w["control"].ref_id}],
    "controls:evidence-download": lambda w: [{"pk": w["evidence"].pk}],
    "controls:item-applicability": lambda w: [_item()],
    "controls:framework": lambda w: [{"key": FRAMEWORK}],
    "exceptions:detail": lambda w: [{"pk": w["pending_exception"].pk}],
    "exceptions:renew": lambda w: [{"pk": w["active_exception"].pk}],
    "exceptions:approve": lambda w: [{"pk": w["pending_exception"].pk}],
    "exceptions:reject": lambda w: [{"pk": w["pending_exception"].pk}],
    "exceptions:revoke": lambda w: [{"pk": w["active_exception"].pk}],
    "exceptions:withdraw": lambda w: [{"pk": w["pending_exception"].pk}],
}
