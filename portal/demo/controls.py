"""Demo applicability statement: one NIST CSF 2.0 item security marked out of scope."""

from django.contrib.auth.models import User

from controls.models import FrameworkItem, ItemApplicability
from controls.services import applicability_set


def seed_applicability() -> None:
    if ItemApplicability.objects.exists():
        return  # idempotent: the demo statement is written once
    item = FrameworkItem.objects.filter(framework__key="nist-csf-2.0", ref_id="PR.AA-06").first()
    if item is None:
        return
    applicability_set(
        actor=User.objects.get(username="sam"),
        item=item,
        applicable=False,
        rationale=(
            "Physical access to facilities is out of the portal's scope: it governs software "
            "agents, which hold no badges."
        ),
    )
