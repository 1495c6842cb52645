"""Each collector's population: as many records as it checked, as many failing as it failed,
the same records whether read page by page or streamed, and the report's queries untouched."""

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone

from compliance.collectors import COLLECTORS, collector_for
from compliance.collectors.population import CHUNK, PerVersion, Population, Rows, Sample, each
from compliance.period import period_parse
from decisions.models import Activity, ReviewStatus
from registry.models import Agent
from tests.registry.factories import publish_policy

pytestmark = pytest.mark.django_db

PAGE = 7  # small, so pages cut across parts and across policy versions


def _ids(samples) -> list[tuple[str, str]]:
    return [(sample.kind, sample.id) for sample in samples]


def _paged(population: Population) -> list[tuple[str, str]]:
    found = []
    for start in range(0, population.count(), PAGE):
        found += _ids(population[start : start + PAGE])
    return found


def _flagged_action(reporter) -> None:
    agent = Agent.objects.order_by("pk").first()
    Activity.objects.create(
        agent=agent,
        agent_slug=agent.slug,
        capability_key="github:merge",
        outcome="success",
        occurred_at=timezone.now(),
        reported_by=reporter,
        flagged=True,
        review_status=ReviewStatus.PENDING,
    )


@pytest.fixture
def demo(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo")


def test_every_population_matches_its_collectors_counts(demo, security):
    # Two more versions: one opens a high-risk capability (fails AGC-02 and AGC-03), one
    # makes production looser than sandbox (fails AGC-06), so failures are listed too.
    publish_policy({"sandbox": {"github:merge": ("allow", None)}}, security)
    publish_policy(
        {"sandbox": {"deploy:release": ("deny", None)},
         "production": {"deploy:release": ("jit", 4)}},
        security,
    )  # fmt: skip
    _flagged_action(security)
    period = period_parse(None, None)
    unchecked = set()
    for ref_id, collector in COLLECTORS.items():
        evidence = collector.collect(period)
        population = collector.population(period)
        assert population is not None, ref_id
        streamed = list(population)
        assert population.count() == len(streamed) == evidence.checked, ref_id
        assert sum(sample.failed for sample in streamed) == evidence.failed, ref_id
        assert _paged(population) == _ids(streamed), ref_id
        assert len(set(_ids(streamed))) == len(streamed), ref_id  # no record twice
        if not evidence.checked:
            unchecked.add(ref_id)
        # The report's samples are records of the population.
        assert set(_ids(evidence.samples)) <= set(_ids(streamed)), ref_id
    # The demo issues no credentials (test_collector_credentials judges AGC-11's).
    assert unchecked <= {"AGC-11"}
    assert COLLECTORS["AGC-02"].collect(period).failed >= 1
    assert COLLECTORS["AGC-06"].collect(period).failed >= 1


def test_failing_records_come_first_where_the_collector_orders_them(demo, security):
    publish_policy({"sandbox": {"github:merge": ("allow", None)}}, security)
    period = period_parse(None, None)
    for ref_id in ("AGC-01", "AGC-04", "AGC-07", "AGC-08", "AGC-09", "AGC-10", "AGC-11"):
        flags = [sample.failed for sample in COLLECTORS[ref_id].population(period)]
        assert flags == sorted(flags, reverse=True), ref_id


def test_a_control_without_collector_has_no_population():
    assert collector_for("AGC-99").population(period_parse(None, None)) is None


def test_policy_slots_are_paged_by_version(security):
    """AGC-02: versions x tiers x high-risk capabilities; pages of 7 cut across versions and
    read only the versions they show."""
    for _ in range(3):
        publish_policy(
            {"sandbox": {"github:merge": ("allow", None), "deploy:release": ("approval", 8)}},
            security,
        )
    period = period_parse(None, None)
    population = COLLECTORS["AGC-02"].population(period)
    evidence = COLLECTORS["AGC-02"].collect(period)
    # Only the latest version published before the period and those within it are in force.
    assert population.count() == evidence.checked == 3 * 3 * 2
    streamed = list(population)
    assert _paged(population) == _ids(streamed)
    first = streamed[0]
    assert first.id.startswith("v3/")  # the newest version first
    assert [s.label for s in streamed if s.failed] == [
        f"v{n} sandbox github:merge: allow on a high-risk capability" for n in (3, 2, 1)
    ]
    assert "no rule (denied)" in streamed[-1].label


def test_a_slice_past_the_end_is_empty_and_steps_are_refused(security):
    publish_policy({"sandbox": {"github:merge": ("allow", None)}}, security)
    population = COLLECTORS["AGC-02"].population(period_parse(None, None))
    total = population.count()
    assert population[total : total + 10] == []
    with pytest.raises(TypeError):
        population[0:10:2]


def test_rows_are_streamed_in_chunks():
    """A long population is read CHUNK rows at a time, each chunk converted as it comes."""
    batches: list[int] = []

    def convert(rows: list) -> list[Sample]:
        batches.append(len(rows))
        return each(lambda row: Sample(kind="user", id=str(row[0]), label=row[1]))(rows)

    User.objects.bulk_create(User(username=f"u{n:05d}") for n in range(CHUNK + 10))
    rows = Rows(User.objects.order_by("pk").values_list("pk", "username"), convert)
    population = Population(rows, PerVersion(User.objects.none(), lambda: 3, lambda v: []))
    assert len(list(population)) == population.count() == User.objects.count()
    assert batches == [CHUNK, User.objects.count() - CHUNK]
