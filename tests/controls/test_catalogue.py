"""The shipped catalogues and controls, as loaded by the data migration and load_frameworks."""

from collections import Counter

import pytest
import yaml
from django.core.management import call_command

from controls import catalogue
from controls.catalogue import load_controls, load_frameworks
from controls.models import Control, Framework, FrameworkItem, Mapping, Relationship

pytestmark = pytest.mark.django_db

NIST = "nist-ai-rmf-1.0"
ASI = "owasp-agentic-top10-2026"
MAESTRO = "csa-maestro"
THREATS = "owasp-agentic-threats-t1-t15"
CSF = "nist-csf-2.0"
THREE_FRAMEWORKS = {NIST, ASI, MAESTRO}
AGC = [f"AGC-{n:02d}" for n in range(1, 12)]


def kinds(key):
    return Counter(FrameworkItem.objects.filter(framework__key=key).values_list("kind", flat=True))


def test_the_migration_loaded_five_frameworks_with_their_published_counts():
    assert set(Framework.objects.values_list("key", flat=True)) == {
        NIST,
        ASI,
        MAESTRO,
        THREATS,
        CSF,
    }
    assert kinds(NIST) == {"function": 4, "category": 19, "subcategory": 72}
    assert kinds(ASI) == {"risk": 10}
    assert kinds(THREATS) == {"threat": 15}
    assert kinds(MAESTRO) == {"layer": 7, "category": 1, "threat": 55}
    assert FrameworkItem.objects.filter(framework__key=MAESTRO).count() == 63


def test_counts_match_every_shipped_yaml_file_item_for_item():
    for data in catalogue.read_framework_files():
        key = data["framework"]["key"]
        stored = list(
            FrameworkItem.objects.filter(framework__key=key)
            .order_by("order")
            .values_list("ref_id", "title", "kind", "parent__ref_id")
        )
        shipped = [(i["ref_id"], i["title"], i["kind"], i["parent"]) for i in data["items"]]
        assert stored == shipped, key


@pytest.mark.parametrize(
    ("key", "ref_id", "parent", "title"),
    [
        (NIST, "GOVERN", None, "Govern"),
        (NIST, "GOVERN 1", "GOVERN", None),
        (NIST, "GOVERN 1.1", "GOVERN 1", None),
        (NIST, "MEASURE 2.13", "MEASURE 2", None),
        (NIST, "MANAGE 4.3", "MANAGE 4", None),
        (ASI, "ASI01", None, "Agent Goal Hijack"),
        (ASI, "ASI03", None, "Identity and Privilege Abuse"),
        (ASI, "ASI10", None, "Rogue Agents"),
        (THREATS, "T1", None, "Memory Poisoning"),
        (THREATS, "T15", None, "Human Manipulation"),
        (MAESTRO, "Layer 6", None, "Security and Compliance"),
        (MAESTRO, "Layer 7 / Agent Tool Misuse", "Layer 7", "Agent Tool Misuse"),
        (MAESTRO, "Cross-Layer / Privilege Escalation", "Cross-Layer", "Privilege Escalation"),
    ],
)
def test_identifiers_are_kept_exactly_as_published(key, ref_id, parent, title):
    item = FrameworkItem.objects.select_related("parent").get(framework__key=key, ref_id=ref_id)
    assert (item.parent.ref_id if item.parent else None) == parent
    if title:
        assert item.title == title


def test_the_project_ships_its_own_copy_of_the_catalogues_and_their_sources():
    names = {path.name for path in catalogue.FRAMEWORKS_DIR.iterdir()}
    assert set(catalogue.FRAMEWORK_FILES) | {"SOURCES.md"} <= names


def test_load_frameworks_is_idempotent_and_keeps_security_edits():
    control = Control.objects.get(ref_id="AGC-03")
    control.title = "JIT access, as security words it"
    control.save()
    Mapping.objects.filter(control=control, item__ref_id="ASI03").delete()
    before = (FrameworkItem.objects.count(), Control.objects.count(), Mapping.objects.count())

    first = load_frameworks()
    second = load_frameworks()
    controls = load_controls()

    assert (
        first
        == second
        == {
            "frameworks": 5,
            "items": 317,
            "items_created": 0,
            "items_updated": 0,
            "items_stale": 0,
        }
    )
    assert controls == {"controls": 11, "controls_created": 0, "mappings_created": 0}
    assert (FrameworkItem.objects.count(), Control.objects.count(), Mapping.objects.count()) == (
        before
    )
    control.refresh_from_db()
    assert control.title == "JIT access, as security words it"
    assert not Mapping.objects.filter(control=control, item__ref_id="ASI03").exists()


def test_load_frameworks_repairs_a_drifted_item_and_recreates_a_deleted_control():
    item = FrameworkItem.objects.get(framework__key=ASI, ref_id="ASI01")
    item.title = "Agent Behaviour Hijack"
    item.save()
    Control.objects.get(ref_id="AGC-10").delete()

    assert load_frameworks()["items_updated"] == 1
    created = load_controls()

    item.refresh_from_db()
    assert item.title == "Agent Goal Hijack"
    assert created["controls_created"] == 1
    assert Control.objects.get(ref_id="AGC-10").mappings.count() > 0


def test_management_command_reports_counts():
    from io import StringIO

    out = StringIO()
    call_command("load_frameworks", stdout=out)
    assert "5 frameworks, 317 items (0 created, 0 updated" in out.getvalue()


def test_the_shipped_control_set_is_complete():
    assert list(Control.objects.order_by("ref_id").values_list("ref_id", flat=True)) == AGC
    assert all(Control.objects.values_list("active", flat=True))


def test_every_shipped_mapping_points_at_an_existing_item_with_valid_values():
    items = {(i.framework.key, i.ref_id) for i in FrameworkItem.objects.select_related("framework")}
    for control in catalogue.read_controls_file():
        for mapping in control["mappings"]:
            assert (mapping["framework"], mapping["ref_id"]) in items, mapping
            assert mapping["relationship"] in Relationship.values
            assert 1 <= mapping["strength"] <= 10
            assert mapping["rationale"].strip()
            assert "\n" not in mapping["rationale"]


def test_every_control_maps_to_all_three_frameworks():
    for ref_id in AGC:
        keys = set(
            Mapping.objects.filter(control__ref_id=ref_id).values_list(
                "item__framework__key", flat=True
            )
        )
        assert keys >= THREE_FRAMEWORKS, ref_id


def test_loaded_mappings_equal_the_shipped_file():
    shipped = {
        (c["ref_id"], m["framework"], m["ref_id"], m["relationship"], m["strength"])
        for c in catalogue.read_controls_file()
        for m in c["mappings"]
    }
    stored = set(
        Mapping.objects.values_list(
            "control__ref_id", "item__framework__key", "item__ref_id", "relationship", "strength"
        )
    )
    assert stored == shipped


def test_jit_access_maps_to_identity_and_privilege_abuse():
    mapped = set(
        Mapping.objects.filter(control__ref_id="AGC-03").values_list(
            "item__framework__key", "item__ref_id"
        )
    )
    assert {(ASI, "ASI03"), (THREATS, "T3"), (MAESTRO, "Cross-Layer / Privilege Escalation")} <= (
        mapped
    )


def test_a_malformed_catalogue_is_refused_with_the_file_named(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "framework": {"key": "x"},
                "items": [{"ref_id": "A", "parent": "B"}, {"ref_id": "B", "parent": None}],
            }
        )
    )
    with pytest.raises(catalogue.CatalogueError, match=r"broken\.yaml: 'A' names parent 'B'"):
        catalogue.read_framework_file(path)
