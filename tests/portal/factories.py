import factory
from django.contrib.auth.models import Group, User

from kernel.roles import Role

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            # get_or_create: transactional tests flush the groups the data migration made.
            group, _ = Group.objects.get_or_create(name=Role(extracted).value)
            self.groups.add(group)
        self.save()


def make_user(username: str, role: Role | str | None = None, **kwargs) -> User:
    return UserFactory(username=username, role=role, **kwargs)
