"""The shared steps of edit services (kernel.editing) and of loading one object (kernel.lookup)."""

import pytest

from kernel.editing import apply_changes, save_unique
from kernel.errors import ApplicationError, NotFound
from kernel.lookup import get_by_pk
from registry.models import Team


def test_apply_changes_sets_editable_fields():
    team = Team(slug="a", name="A")
    apply_changes(team, {"name": "B", "business_unit": "R&D"}, {"name", "business_unit"})
    assert (team.name, team.business_unit) == ("B", "R&D")


def test_apply_changes_refuses_all_when_one_field_is_not_editable():
    team = Team(slug="a", name="A")
    with pytest.raises(ApplicationError) as refused:
        apply_changes(team, {"name": "B", "slug": "b", "id": 3}, {"name"})
    assert refused.value.code == "read_only"
    assert str(refused.value) == "These fields cannot be changed here: id, slug."
    assert team.name == "A"


@pytest.mark.django_db
def test_save_unique_turns_a_lost_race_into_a_duplicate_refusal():
    Team.objects.create(slug="a", name="A")
    with pytest.raises(ApplicationError) as refused:
        save_unique(Team(slug="a", name="Again"))
    assert (refused.value.code, str(refused.value)) == ("duplicate", "This team already exists.")
    with pytest.raises(ApplicationError, match=r"^Taken\.$"):
        save_unique(Team(slug="a", name="Again"), "Taken.")
    assert Team.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("pk", ["999", "x", None, str(2**80)])
def test_get_by_pk_treats_unknown_and_malformed_ids_alike(pk):
    team = Team.objects.create(slug="a", name="A")
    assert get_by_pk(Team.objects.all(), str(team.pk), "No team.") == team
    with pytest.raises(NotFound, match=r"^No team\.$"):
        get_by_pk(Team.objects.all(), pk, "No team.")
