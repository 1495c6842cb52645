"""Demo compliance data: an applicability statement (one CSF item out of scope) and owners."""

from django.contrib.auth.models import User

from controls.models import Control, FrameworkItem, ItemApplicability
from controls.services import applicability_set, control_update


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


def seed_control_owners() -> None:
    """Each shipped control answered for by a security member (the report names them)."""
    sam, sara = User.objects.get(username="sam"), User.objects.get(username="sara")
    for control in Control.objects.filter(owner__isnull=True, ref_id__startswith="AGC-"):
        owner = sam if control.ref_id <= "AGC-06" else sara
        control_update(actor=sam, control=control, owner=owner)
