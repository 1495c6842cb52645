"""List filters of issued credentials (HTML and API alike)."""

from django.db.models import QuerySet
from django_filters import rest_framework as filters

from credentials.models import IssuedCredential
from kernel.filtering import time_window
from registry.models import CAPABILITY_KEY_MAX_LENGTH


class CredentialFilter(filters.FilterSet):
    agent = filters.CharFilter(field_name="agent__slug")
    capability = filters.CharFilter(method="with_capability", max_length=CAPABILITY_KEY_MAX_LENGTH)
    provider = filters.CharFilter(field_name="provider__slug")
    # `from` is a Python keyword: the parameter is named in the form, the filter `since`.
    since, to = time_window("issued_at", "Issued", since="from", until="to")

    class Meta:
        model = IssuedCredential
        fields = ["agent", "capability", "provider", "to"]

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and "from" in data:
            plain = {key: data.get(key) for key in data}
            plain["since"] = plain.pop("from")
            data = plain
        super().__init__(data, *args, **kwargs)

    def with_capability(
        self, queryset: QuerySet[IssuedCredential], name: str, value: str
    ) -> QuerySet[IssuedCredential]:
        return queryset.filter(capability_keys__contains=f" {value} ")
