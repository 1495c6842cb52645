import factory

from controls.models import Control, EvidenceFile, Framework, FrameworkItem, Mapping, Relationship
from tests.portal.factories import UserFactory


class FrameworkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Framework
        django_get_or_create = ("key",)

    key = factory.Sequence(lambda n: f"test-framework-{n}")
    name = factory.LazyAttribute(lambda f: f"Framework {f.key}")
    version = "1"


class FrameworkItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FrameworkItem

    framework = factory.SubFactory(FrameworkFactory)
    ref_id = factory.Sequence(lambda n: f"ITEM {n}")
    title = factory.LazyAttribute(lambda i: f"Item {i.ref_id}")
    kind = "risk"
    order = factory.Sequence(lambda n: n)


class ControlFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Control

    ref_id = factory.Sequence(lambda n: f"TST-{n + 100:03d}")
    title = factory.LazyAttribute(lambda c: f"Control {c.ref_id}")
    description = "A test control."


class MappingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Mapping

    control = factory.SubFactory(ControlFactory)
    item = factory.SubFactory(FrameworkItemFactory)
    relationship = Relationship.INTERSECTS
    strength = 5
    rationale = "Because the test says so."


class EvidenceFileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EvidenceFile

    file = factory.django.FileField(filename="evidence.txt", data=b"evidence")
    sha256 = "0" * 64
    original_name = "evidence.txt"
    size = 8
    control = factory.SubFactory(ControlFactory)
    uploaded_by = factory.SubFactory(UserFactory)
    effective_on = factory.Faker("past_date")
