"""Two security members change the same applicability statement at the same moment
(PostgreSQL row locks): distinct version numbers, one current version per item."""

import threading

import pytest
from django.db import connection

from controls import services
from controls.catalogue import load_frameworks
from controls.models import FrameworkItem, ItemApplicability
from kernel.errors import ApplicationError
from tests.portal.factories import make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CSF = "nist-csf-2.0"


def race(changes: list[tuple]) -> list[str]:
    """Run each (actor, ref_id, rationale) in its own thread, released together."""
    barrier = threading.Barrier(len(changes))
    outcomes: list[str] = []

    def change(actor, ref_id, rationale):
        try:
            item = FrameworkItem.objects.get(framework__key=CSF, ref_id=ref_id)
            barrier.wait()
            services.applicability_set(
                actor=actor, item=item, applicable=False, rationale=rationale
            )
            outcomes.append("ok")
        except ApplicationError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=change, args=args) for args in changes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.fixture
def people():
    # A transactional test flushes the tables, shipped catalogues included: load them again.
    load_frameworks()
    return make_user("sec-a", "security"), make_user("sec-b", "security")


def test_two_items_at_once_take_two_versions(people):
    first, second = people
    outcomes = race([(first, "PR.AA-06", "Facilities."), (second, "RC.CO-04", "Comms.")])
    assert outcomes == ["ok", "ok"]
    versions = sorted(ItemApplicability.objects.values_list("version", flat=True))
    assert versions == [1, 2]


def test_the_same_item_at_once_keeps_one_current_version(people):
    first, second = people
    outcomes = race([(first, "PR.AA-06", "Facilities."), (second, "PR.AA-06", "Badges.")])
    assert outcomes == ["ok", "ok"]
    rows = list(ItemApplicability.objects.order_by("version"))
    assert [row.version for row in rows] == [1, 2]
    assert [row.current for row in rows] == [False, True]
