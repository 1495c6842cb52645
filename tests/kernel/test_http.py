"""The HTML views' shared helpers in kernel/http.py."""

import pytest
from django import forms
from django.test import RequestFactory

from kernel.errors import ApplicationError
from kernel.http import paginate, valid_data


class _Form(forms.Form):
    days = forms.IntegerField(min_value=1)

    def clean(self):
        if self.cleaned_data.get("days") == 7:
            raise forms.ValidationError("Not a week.")
        return self.cleaned_data


def test_valid_data_returns_the_cleaned_data():
    assert valid_data(_Form({"days": "3"}), "Not saved") == {"days": 3}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"days": "0"}, "Not saved: days: Ensure this value is greater than or equal to 1."),
        ({"days": "7"}, "Not saved: Not a week."),
    ],
)
def test_valid_data_refuses_with_each_fields_errors(data, message):
    with pytest.raises(ApplicationError) as refused:
        valid_data(_Form(data), "Not saved")
    assert refused.value.message == message


def test_paginate_keeps_the_filters_and_drops_the_page():
    request = RequestFactory().get("/x/", {"status": "pending", "page": "2"})
    page, query = paginate(request, list(range(5)), 2)
    assert list(page) == [2, 3]
    assert query == "status=pending"
