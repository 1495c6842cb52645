"""The forms on a control's page and on an item's applicability page: a refusal shows the page
again (400) with the message beside the field and what was typed kept; nothing changes."""

import datetime
import re
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from controls.models import Control, EvidenceFile, FrameworkItem, ItemApplicability, Mapping
from kernel.validation import TEXT_MAX_LENGTH

pytestmark = pytest.mark.django_db

CONTROL = "/compliance/controls/AGC-02/"
APPLICABILITY = "/compliance/nist-csf-2.0/items/PR.AA-06/applicability/"


def field_errors(page: str) -> dict[str, str]:
    """Each field's error text, by the id of the input it sits beside (form_fields.html)."""
    found = {}
    for block in page.split('<div class="field">')[1:]:
        name = re.search(r'<label for="(\w+)"', block)
        error = re.search(r'<div role="alert">(.*?)</div>', block, re.S)
        if name and error:
            found[name.group(1)] = unescape(re.sub(r"<[^>]+>", "", error.group(1)).strip())
    return found


def upload(client, effective_on: str):
    file = SimpleUploadedFile("scan.pdf", b"%PDF-1.4 evidence", content_type="application/pdf")
    return client.post(
        f"{CONTROL}evidence/",
        {"file": file, "effective_on": effective_on, "description": "Quarterly scan"},
    )


def test_not_applicable_without_a_rationale_is_said_on_the_rationale(client, security):
    client.force_login(security)
    form = client.get(APPLICABILITY).content.decode()
    assert re.search(r'<textarea name="rationale"[^>]* required', form)
    response = client.post(APPLICABILITY, {"applicable": "no", "rationale": "  "})
    assert response.status_code == 400
    page = response.content.decode()
    assert field_errors(page) == {
        "id_rationale": "Give a rationale: why is PR.AA-06 out of the portal's scope?"
    }
    assert '<option value="no" selected>Not applicable</option>' in page
    assert "Back to the dashboard" not in page
    assert not ItemApplicability.objects.exists()


def test_evidence_dated_in_the_future_is_refused_on_the_date(client, security):
    client.force_login(security)
    today = timezone.localdate()
    form = client.get(CONTROL).content.decode()
    assert f'max="{today.isoformat()}"' in form
    assert 'min="1970-01-01"' in form
    tomorrow = (today + datetime.timedelta(days=1)).isoformat()
    response = upload(client, tomorrow)
    assert response.status_code == 400
    page = response.content.decode()
    errors = field_errors(page)
    assert errors["evidence_effective_on"] == (
        "Evidence cannot be effective in the future: give the date it speaks for."
    )
    assert errors["evidence_file"] == (
        "Choose the file again: browsers do not keep it after a refusal."
    )
    assert f'value="{tomorrow}"' in page
    assert 'value="Quarterly scan"' in page
    assert not EvidenceFile.objects.exists()


def test_evidence_dated_before_1970_is_refused_on_the_date(client, security):
    client.force_login(security)
    response = upload(client, "1900-01-01")
    assert response.status_code == 400
    assert field_errors(response.content.decode())["evidence_effective_on"] == (
        "The effective date must fall between the years 1970 and 2999."
    )
    assert not EvidenceFile.objects.exists()


def test_a_refused_new_mapping_keeps_what_was_typed(client, security):
    client.force_login(security)
    item = FrameworkItem.objects.filter(framework__key="nist-ai-rmf-1.0").first()
    count = Mapping.objects.count()
    response = client.post(
        f"{CONTROL}mappings/",
        {"item": item.pk, "relationship": "subset", "strength": "11", "rationale": "Typed why"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert field_errors(page) == {"id_strength": "Ensure this value is less than or equal to 10."}
    assert 'value="Typed why"' in page
    assert f'<option value="{item.pk}" selected>' in page
    assert "strength:" not in page
    assert Mapping.objects.count() == count


def test_a_refused_mapping_edit_shows_the_message_in_its_row(client, security):
    client.force_login(security)
    mapping = Mapping.objects.filter(control__ref_id="AGC-02").first()
    page = client.get(CONTROL).content.decode()
    assert 'name="rationale" value="' in page
    assert 'maxlength="1000" required aria-label="rationale"' in page
    typed = "r" * 1001
    response = client.post(
        f"{CONTROL}mappings/{mapping.pk}/edit/",
        {"relationship": "subset", "strength": "7", "rationale": typed},
    )
    assert response.status_code == 400
    page = response.content.decode()
    row = page[page.index(f'aria-label="Edit mapping {mapping.item.ref_id}"') :]
    row = row[: row.index("</form>")]
    assert "Ensure this value has at most 1000 characters (it has 1001)." in row
    assert f'value="{typed}"' in row
    assert 'value="7"' in row
    assert '<option value="subset" selected>' in row
    unchanged = Mapping.objects.get(pk=mapping.pk)
    assert (unchanged.strength, unchanged.rationale) == (mapping.strength, mapping.rationale)


def test_a_refused_control_edit_is_said_on_its_field(client, security):
    client.force_login(security)
    before = Control.objects.get(ref_id="AGC-02")
    response = client.post(
        f"{CONTROL}edit/", {"title": "A new title", "owner_team": "nowhere", "active": "on"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    errors = field_errors(page)
    assert errors["id_owner_team"].startswith("Select a valid choice.")
    assert 'value="A new title"' in page
    assert "owner_team:" not in page
    assert Control.objects.get(ref_id="AGC-02").title == before.title


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"ref_id": "AGC-12", "title": ""}, "id_title", "This field is required."),  # the form
        ({"ref_id": "AGC-01", "title": "Again"}, "id_ref_id", "Control AGC-01 already exists."),
        (
            {"ref_id": "AGC-12", "title": "Long", "description": "d" * (TEXT_MAX_LENGTH + 1)},
            "id_description",
            f"Ensure this value has at most {TEXT_MAX_LENGTH} characters (it has "
            f"{TEXT_MAX_LENGTH + 1}).",
        ),
    ],
)
def test_a_refused_new_control_is_a_400_on_the_list_with_what_was_typed(
    client, security, data, field, message
):
    client.force_login(security)
    count = Control.objects.count()
    typed = data.get("description", "Typed description")
    response = client.post("/compliance/controls/", {"description": typed, **data, "active": "on"})
    assert response.status_code == 400
    page = response.content.decode()
    assert field_errors(page)[field] == message
    assert f'value="{data["ref_id"]}"' in page
    assert f"{typed}</textarea>" in page
    assert "Back to the dashboard" not in page
    assert Control.objects.count() == count
    assert Control.objects.get(ref_id="AGC-01").title != "Again"
