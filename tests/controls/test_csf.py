"""NIST CSF 2.0: the shipped catalogue (6 functions, 22 categories, 106 subcategories), the
subcategories the portal's controls evidence, and the migration that brings both to a
database that had the other catalogues already."""

import importlib
from collections import Counter

import pytest
import yaml
from django.apps import apps as live_apps

from controls import catalogue
from controls.catalogue import load_framework_mappings
from controls.models import Control, Framework, FrameworkItem, Mapping

pytestmark = pytest.mark.django_db

CSF = "nist-csf-2.0"
AGC = [f"AGC-{n:02d}" for n in range(1, 12)]
AI_FRAMEWORKS = {
    "owasp-agentic-top10-2026",
    "nist-ai-rmf-1.0",
    "csa-maestro",
    "owasp-agentic-threats-t1-t15",
}
# The subcategories issue #14 names, each evidenced by at least one shipped control.
REQUIRED = {"GV.RR-02", "GV.PO-01", "GV.PO-02", "GV.OV-02", "PR.PS-04"} | {
    f"PR.AA-0{n}" for n in range(1, 6)
}
REQUIRED_FAMILIES = ("GV.SC-", "ID.AM-", "DE.CM-", "DE.AE-")


def csf_mappings():
    return Mapping.objects.filter(item__framework__key=CSF).select_related("control", "item")


def test_csf_is_loaded_with_its_published_counts():
    framework = Framework.objects.get(key=CSF)
    assert framework.name == "The NIST Cybersecurity Framework (CSF) 2.0"
    assert framework.version.startswith("2.0 (NIST CSWP 29")
    kinds = Counter(framework.items.values_list("kind", flat=True))
    assert kinds == {"function": 6, "category": 22, "subcategory": 106}
    assert framework.items.count() == 134


@pytest.mark.parametrize(
    ("function", "categories", "subcategories"),
    [("GV", 6, 31), ("ID", 3, 21), ("PR", 5, 22), ("DE", 2, 11), ("RS", 4, 13), ("RC", 2, 8)],
)
def test_each_function_has_its_published_categories_and_subcategories(
    function, categories, subcategories
):
    items = FrameworkItem.objects.filter(framework__key=CSF)
    assert items.filter(parent__ref_id=function, kind="category").count() == categories
    assert (
        items.filter(parent__parent__ref_id=function, kind="subcategory").count() == subcategories
    )


@pytest.mark.parametrize(
    ("ref_id", "parent", "title"),
    [
        ("GV", None, "Govern"),
        ("GV.OC", "GV", "Organizational Context"),
        ("PR.AA", "PR", "Identity Management, Authentication, and Access Control"),
        ("PR.AA-05", "PR.AA", None),
        ("DE.CM-09", "DE.CM", None),
        ("RC.CO-04", "RC.CO", None),
    ],
)
def test_csf_identifiers_are_kept_exactly_as_published(ref_id, parent, title):
    item = FrameworkItem.objects.select_related("parent").get(framework__key=CSF, ref_id=ref_id)
    assert (item.parent.ref_id if item.parent else None) == parent
    if title:
        assert item.title == title
    else:
        assert item.title == item.text  # subcategories: the full outcome statement


def test_the_project_ships_its_own_copy_of_csf_and_its_provenance():
    assert "nist-csf-2.0.yaml" in catalogue.FRAMEWORK_FILES
    data = yaml.safe_load((catalogue.FRAMEWORKS_DIR / "nist-csf-2.0.yaml").read_text())
    assert data["framework"]["key"] == CSF
    sources = (catalogue.FRAMEWORKS_DIR / "SOURCES.md").read_text()
    assert "`nist-csf-2.0.yaml` — NIST Cybersecurity Framework (CSF) 2.0" in sources
    assert "6/22/106" in sources


def test_every_control_evidences_csf_subcategories_only():
    by_control = {ref: set() for ref in AGC}
    for mapping in csf_mappings():
        assert mapping.item.kind == "subcategory", mapping
        by_control[mapping.control.ref_id].add(mapping.item.ref_id)
    assert all(by_control.values()), by_control


def test_the_subcategories_the_issue_names_are_mapped():
    mapped = {mapping.item.ref_id for mapping in csf_mappings()}
    assert mapped >= REQUIRED
    for family in REQUIRED_FAMILIES:
        assert any(ref.startswith(family) for ref in mapped), family
    # Nothing the portal does governs physical access: no control claims it.
    assert "PR.AA-06" not in mapped


@pytest.mark.parametrize(
    ("control", "ref_id", "relationship"),
    [
        ("AGC-01", "GV.PO-01", "subset"),
        ("AGC-01", "GV.RR-02", "subset"),
        ("AGC-05", "PR.PS-04", "subset"),
        ("AGC-07", "ID.RA-07", "subset"),
        ("AGC-08", "ID.AM-02", "subset"),
        ("AGC-10", "DE.AE-02", "subset"),
        ("AGC-11", "PR.AA-02", "subset"),
        ("AGC-11", "PR.AA-04", "subset"),
    ],
)
def test_a_mapping_names_its_relationship_and_a_one_line_rationale(control, ref_id, relationship):
    mapping = csf_mappings().get(control__ref_id=control, item__ref_id=ref_id)
    assert mapping.relationship == relationship
    assert mapping.rationale.strip()
    assert "\n" not in mapping.rationale
    assert len(mapping.rationale) <= 160


def test_csf_shares_every_control_with_the_ai_frameworks():
    from controls.crosswalks import frameworks_sharing_controls

    shared = {other.key: other.controls for other in frameworks_sharing_controls()[CSF]}
    assert set(shared) == AI_FRAMEWORKS
    assert shared["nist-ai-rmf-1.0"] == AGC


MIGRATION = "controls.migrations.0005_load_nist_csf_2_0"


def _as_before_csf() -> None:
    """An installation migrated before CSF 2.0 shipped: no CSF mappings, no CSF catalogue."""
    Mapping.objects.filter(item__framework__key=CSF).delete()
    Framework.objects.filter(key=CSF).delete()


def test_the_migration_brings_csf_and_its_mappings_to_an_existing_database():
    shipped = set(csf_mappings().values_list("control__ref_id", "item__ref_id", "strength"))
    _as_before_csf()
    before = Mapping.objects.count()

    importlib.import_module(MIGRATION).load(live_apps, None)

    assert FrameworkItem.objects.filter(framework__key=CSF).count() == 134
    assert set(csf_mappings().values_list("control__ref_id", "item__ref_id", "strength")) == (
        shipped
    )
    assert Mapping.objects.count() == before + len(shipped)


def test_the_migration_keeps_what_security_changed_and_adds_nothing_twice():
    _as_before_csf()
    untouched = Mapping.objects.get(control__ref_id="AGC-03", item__ref_id="ASI03")
    untouched.rationale = "Security's own words."
    untouched.save()
    migration = importlib.import_module(MIGRATION)
    migration.load(live_apps, None)
    # Security removes one CSF mapping and rewords another; a second run changes nothing.
    csf_mappings().get(control__ref_id="AGC-05", item__ref_id="DE.CM-09").delete()
    csf_mappings().filter(control__ref_id="AGC-08", item__ref_id="ID.AM-02").update(strength=2)
    count = Mapping.objects.count()

    migration.load(live_apps, None)
    assert load_framework_mappings(CSF) == {"controls_mapped": 0, "mappings_created": 0}

    assert Mapping.objects.count() == count
    assert not csf_mappings().filter(control__ref_id="AGC-05", item__ref_id="DE.CM-09").exists()
    assert csf_mappings().get(control__ref_id="AGC-08", item__ref_id="ID.AM-02").strength == 2
    untouched.refresh_from_db()
    assert untouched.rationale == "Security's own words."


def test_a_control_security_created_or_retired_from_the_file_is_left_alone():
    _as_before_csf()
    Control.objects.create(ref_id="SEC-01", title="Security's own control")
    Control.objects.get(ref_id="AGC-09").delete()  # security removed a shipped control

    importlib.import_module(MIGRATION).load(live_apps, None)

    assert not Mapping.objects.filter(control__ref_id="SEC-01").exists()
    assert not Control.objects.filter(ref_id="AGC-09").exists()
    assert {m.control.ref_id for m in csf_mappings()} == set(AGC) - {"AGC-09"}
