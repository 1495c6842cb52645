"""The applicability statement: security marks framework items not applicable with a
rationale, and applicable again; each change is a new version in the audit trail; coverage,
gaps and the crosswalk count applicable items only."""

import pytest
from auditlog.models import LogEntry
from django.db import IntegrityError, transaction

from controls import selectors, services
from controls.applicability import statement_get, statement_history
from controls.crosswalks import crosswalk
from controls.models import Framework, FrameworkItem, ItemApplicability
from kernel.errors import ApplicationError, Forbidden

pytestmark = pytest.mark.django_db

CSF = "nist-csf-2.0"
NIST = "nist-ai-rmf-1.0"
WHY = "Physical access to facilities is the workplace team's, outside the portal's scope."


def item(ref_id: str, key: str = CSF) -> FrameworkItem:
    return FrameworkItem.objects.select_related("framework").get(framework__key=key, ref_id=ref_id)


def listed(key: str) -> Framework:
    return selectors.framework_list().get(key=key)


def mark(actor, ref_id: str, *, applicable: bool = False, rationale: str = WHY, key: str = CSF):
    return services.applicability_set(
        actor=actor, item=item(ref_id, key), applicable=applicable, rationale=rationale
    )


def test_every_item_is_applicable_until_security_says_otherwise():
    statement = statement_get(Framework.objects.get(key=CSF))
    assert (statement.version, statement.not_applicable) == (0, [])
    framework = listed(CSF)
    assert (framework.items_total, framework.items_applicable) == (134, 134)
    assert framework.items_not_applicable == 0


def test_marking_items_not_applicable_makes_new_versions_of_the_statement(security):
    first = mark(security, "PR.AA-06")
    second = mark(security, "RC.CO-04", rationale="Public incident updates are corporate comms'.")

    assert (first.version, second.version) == (1, 2)
    statement = statement_get(Framework.objects.get(key=CSF))
    assert statement.version == 2
    assert [(row.item.ref_id, row.rationale) for row in statement.not_applicable] == [
        ("PR.AA-06", WHY),
        ("RC.CO-04", "Public incident updates are corporate comms'."),
    ]
    assert statement.not_applicable[0].decided_by == security


def test_making_an_item_applicable_again_keeps_every_version(security, second_security):
    mark(security, "PR.AA-06")
    mark(second_security, "PR.AA-06", rationale="Badge readers now log agent host access.")
    back = mark(security, "PR.AA-06", applicable=True, rationale="Data centre access is ours now.")

    assert back.version == 3
    assert statement_get(Framework.objects.get(key=CSF)).not_applicable == []
    history = statement_history(Framework.objects.get(key=CSF), item=item("PR.AA-06"))
    assert [(v.version, v.applicable, v.decided_by.username, v.current) for v in history] == [
        (3, True, security.username, True),
        (2, False, second_security.username, False),
        (1, False, security.username, False),
    ]


def test_versions_are_numbered_per_framework(security):
    mark(security, "PR.AA-06")
    other = mark(security, "MEASURE 2.13", key=NIST, rationale="No model is trained here.")
    assert other.version == 1
    assert statement_get(Framework.objects.get(key=CSF)).version == 1


def test_each_version_is_in_the_audit_trail_with_who_and_why(security):
    version = mark(security, "PR.AA-06")
    again = mark(security, "PR.AA-06", applicable=True, rationale="Back in scope.")

    entries = LogEntry.objects.get_for_model(ItemApplicability).order_by("timestamp")
    assert [(e.object_pk, e.action, e.actor) for e in entries] == [
        (str(version.pk), LogEntry.Action.CREATE, security),
        (str(again.pk), LogEntry.Action.CREATE, security),
    ]
    assert entries[0].changes_dict["rationale"][1] == WHY
    assert entries[0].changes_dict["applicable"][1] == "False"


@pytest.mark.parametrize("rationale", ["", "   ", None])
def test_a_change_without_a_rationale_is_refused_and_changes_nothing(security, rationale):
    with pytest.raises(ApplicationError, match=r"Give a rationale: why is PR.AA-06 out of"):
        mark(security, "PR.AA-06", rationale=rationale)
    mark(security, "PR.AA-06")
    with pytest.raises(ApplicationError, match=r"why is PR.AA-06 back in the portal's scope"):
        mark(security, "PR.AA-06", applicable=True, rationale=rationale)
    assert ItemApplicability.objects.count() == 1


def test_a_change_that_changes_nothing_is_refused(security):
    with pytest.raises(ApplicationError, match="already applicable") as refused:
        mark(security, "PR.AA-06", applicable=True, rationale="It is in scope.")
    assert refused.value.code == "unchanged"
    mark(security, "PR.AA-06")
    with pytest.raises(ApplicationError, match="already not applicable for that reason"):
        mark(security, "PR.AA-06", rationale=f"  {WHY} ")
    assert mark(security, "PR.AA-06", rationale="A better reason.").version == 2


def test_a_rationale_over_a_thousand_characters_is_refused(security):
    with pytest.raises(ApplicationError, match="at most 1000 characters"):
        mark(security, "PR.AA-06", rationale="x" * 1001)
    assert not ItemApplicability.objects.exists()


@pytest.mark.parametrize("role", ["engineer", "auditor", "gateway"])
def test_only_security_changes_the_statement(role_users, role):
    with pytest.raises(Forbidden, match="Only security edits controls"):
        mark(role_users[role], "PR.AA-06")
    assert not ItemApplicability.objects.exists()


def test_one_current_version_per_item_is_a_database_rule(security):
    version = mark(security, "PR.AA-06")
    with pytest.raises(IntegrityError), transaction.atomic():
        ItemApplicability.objects.create(
            framework=version.framework,
            item=version.item,
            version=2,
            applicable=True,
            rationale="A second current version.",
            decided_by=security,
        )


def test_coverage_counts_applicable_items_only(security):
    before = listed(CSF)
    assert (before.items_covered, before.items_applicable) == (23, 134)
    mark(security, "PR.AA-06")  # not mapped: one item fewer to cover
    mark(security, "PR.PS-04", rationale="Logged elsewhere.")  # mapped: one covered fewer

    after = listed(CSF)
    assert (after.items_total, after.items_not_applicable, after.items_applicable) == (134, 2, 132)
    assert after.items_covered == 22
    assert selectors.coverage_percent(after) == round(100 * 22 / 132, 1)


def test_a_not_applicable_item_is_no_gap_and_covers_nothing_above_it(security):
    framework = Framework.objects.get(key=CSF)
    gaps = selectors.framework_matrix(framework).gaps
    mark(security, "PR.AA-06")
    for ref in ("DE.AE-02", "DE.AE-03", "DE.AE-06"):  # every mapped DE.AE subcategory
        mark(security, ref, rationale="Analysed by the SOC, not the portal.")

    matrix = selectors.framework_matrix(framework)
    rows = {row.item.ref_id: row for row in matrix.rows}
    assert rows["PR.AA-06"].not_applicable.rationale == WHY
    assert not rows["PR.AA-06"].is_gap
    assert rows["DE.AE"].is_gap  # nothing in scope under it is covered any more
    assert not rows["DE"].is_gap  # DE.CM still is
    assert matrix.gaps == gaps - 1 + 1  # PR.AA-06 is no gap any more; DE.AE is one now


def test_the_crosswalk_marks_items_out_of_scope_and_counts_only_those_in_scope(security):
    csf, nist = Framework.objects.get(key=CSF), Framework.objects.get(key=NIST)
    shared = crosswalk(csf, nist).shared
    mark(security, "PR.PS-04", rationale="Logged elsewhere.")

    found = crosswalk(csf, nist)
    row = next(row for row in found.rows if row.item.ref_id == "PR.PS-04")
    assert row.not_applicable.rationale == "Logged elsewhere."
    assert found.shared == shared - 1
    assert [s.framework.key for s in found.statements] == [CSF, NIST]
