import datetime
import hashlib

import pytest
from auditlog.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from controls import services
from controls.models import Control, EvidenceFile, FrameworkItem, Mapping
from kernel.errors import ApplicationError, Forbidden
from tests.compliance.factories import ControlFactory, MappingFactory

pytestmark = pytest.mark.django_db

REFUSED = ["engineer", "auditor", "gateway", "norole"]


def item(ref_id, key="owasp-agentic-top10-2026"):
    return FrameworkItem.objects.select_related("framework").get(framework__key=key, ref_id=ref_id)


def snapshot():
    return (
        list(Control.objects.order_by("pk").values()),
        list(Mapping.objects.order_by("pk").values()),
        EvidenceFile.objects.count(),
    )


def upload(content=b"quarterly access review\n", name="review.csv"):
    return SimpleUploadedFile(name, content, content_type="text/csv")


def every_write(actor):
    control = Control.objects.get(ref_id="AGC-01")
    mapping = control.mappings.first()
    yield lambda: services.control_create(actor=actor, ref_id="AGC-12", title="New")
    yield lambda: services.control_update(actor=actor, control=control, title="Changed")
    yield lambda: services.mapping_create(
        actor=actor,
        control=control,
        item=item("ASI06"),
        relationship="subset",
        strength=3,
        rationale="r",
    )
    yield lambda: services.mapping_update(actor=actor, mapping=mapping, strength=1)
    yield lambda: services.mapping_delete(actor=actor, mapping=mapping)
    yield lambda: services.evidence_upload(
        actor=actor, control=control, file=upload(), effective_on=timezone.localdate()
    )


@pytest.mark.parametrize("role", REFUSED)
def test_only_security_writes(role_users, role):
    before = snapshot()
    for write in every_write(role_users[role]):
        with pytest.raises(Forbidden, match="Only security"):
            write()
    assert snapshot() == before


def test_security_creates_and_updates_a_control(security):
    control = services.control_create(
        actor=security, ref_id="AGC-12", title="Secrets rotation", description="d"
    )
    services.control_update(actor=security, control=control, title="Rotation", active=False)
    control.refresh_from_db()
    assert (control.title, control.active) == ("Rotation", False)
    entry = LogEntry.objects.get_for_object(control).latest("timestamp")
    assert entry.actor == security


def test_control_create_refuses_duplicates_and_bad_ref_ids(security):
    with pytest.raises(ApplicationError, match="AGC-01 already exists"):
        services.control_create(actor=security, ref_id="AGC-01", title="Again")
    with pytest.raises(ApplicationError, match="ref_id: Write control identifiers"):
        services.control_create(actor=security, ref_id="agc 1", title="Bad")


def test_control_update_refuses_ref_id_changes(security):
    control = Control.objects.get(ref_id="AGC-01")
    with pytest.raises(ApplicationError, match="cannot be changed here: ref_id"):
        services.control_update(actor=security, control=control, ref_id="AGC-99")


def test_security_maps_edits_and_unmaps(security):
    control = Control.objects.get(ref_id="AGC-01")
    mapping = services.mapping_create(
        actor=security,
        control=control,
        item=item("GOVERN 2.3", "nist-ai-rmf-1.0"),
        relationship="intersects",
        strength=3,
        rationale="  Leadership signs off the published policy.  ",
    )
    assert mapping.rationale == "Leadership signs off the published policy."
    services.mapping_update(actor=security, mapping=mapping, strength=4, relationship="subset")
    mapping.refresh_from_db()
    assert (mapping.strength, mapping.relationship) == (4, "subset")
    services.mapping_delete(actor=security, mapping=mapping)
    assert not Mapping.objects.filter(pk=mapping.pk).exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"strength": 11}, "strength must be between 1 and 10; got 11"),
        ({"strength": 0}, "strength must be between 1 and 10; got 0"),
        ({"relationship": "overlaps"}, "Unknown relationship 'overlaps'"),
        ({"rationale": "   "}, "Give a one-line rationale"),
    ],
)
def test_bad_mapping_values_are_refused_and_nothing_changes(security, changes, message):
    control = Control.objects.get(ref_id="AGC-01")
    values = {"relationship": "subset", "strength": 5, "rationale": "ok", **changes}
    before = snapshot()
    with pytest.raises(ApplicationError, match=message):
        services.mapping_create(actor=security, control=control, item=item("ASI06"), **values)
    mapping = control.mappings.first()
    with pytest.raises(ApplicationError, match=message):
        services.mapping_update(actor=security, mapping=mapping, **changes)
    assert snapshot() == before


def test_duplicate_mapping_is_refused(security):
    control = Control.objects.get(ref_id="AGC-03")
    before = snapshot()
    with pytest.raises(
        ApplicationError, match="already mapped to owasp-agentic-top10-2026 'ASI03'"
    ):
        services.mapping_create(
            actor=security,
            control=control,
            item=item("ASI03"),
            relationship="equal",
            strength=9,
            rationale="again",
        )
    assert snapshot() == before


def test_evidence_upload_stores_the_sha256_and_size_of_what_was_sent(security):
    content = b"grant-id,agent,expires\n" * 10_000  # several upload chunks
    control = Control.objects.get(ref_id="AGC-03")
    evidence = services.evidence_upload(
        actor=security,
        control=control,
        file=upload(content, "grants-q3.csv"),
        effective_on=datetime.date(2025, 9, 30),
        description="Q3 grants export",
    )
    evidence.refresh_from_db()
    assert evidence.sha256 == hashlib.sha256(content).hexdigest()
    assert evidence.size == len(content)
    assert evidence.original_name == "grants-q3.csv"
    assert evidence.uploaded_by == security
    assert evidence.file.name.startswith("evidence/")
    with evidence.file.open("rb") as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == evidence.sha256


def test_evidence_upload_refuses_future_and_empty_files(security):
    control = Control.objects.get(ref_id="AGC-03")
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ApplicationError, match="cannot be effective in the future"):
        services.evidence_upload(
            actor=security, control=control, file=upload(), effective_on=tomorrow
        )
    with pytest.raises(ApplicationError, match="empty"):
        services.evidence_upload(
            actor=security, control=control, file=upload(b""), effective_on=timezone.localdate()
        )
    assert EvidenceFile.objects.count() == 0


def test_factories_build_consistent_rows():
    mapping = MappingFactory()
    assert mapping.control.mappings.get() == mapping
    assert ControlFactory().ref_id.startswith("TST-")
