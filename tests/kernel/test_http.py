"""The HTML views' shared helpers in kernel/http.py."""

import pytest
from django import forms
from django.test import RequestFactory

from kernel.http import form_status, paginate


class _Form(forms.Form):
    days = forms.IntegerField(min_value=1)

    def clean(self):
        if self.cleaned_data.get("days") == 7:
            raise forms.ValidationError("Not a week.")
        return self.cleaned_data


def test_a_page_whose_form_was_not_posted_is_a_200():
    assert form_status(_Form()) == 200
    assert form_status(None) == 200
    assert form_status() == 200


def test_a_posted_form_that_passes_is_a_200():
    assert form_status(_Form({"days": "3"})) == 200


@pytest.mark.parametrize("data", [{"days": "0"}, {"days": "7"}, {}])
def test_a_posted_form_refused_on_a_field_or_as_a_whole_is_a_400(data):
    assert form_status(_Form(data)) == 400


def test_a_service_refusal_on_a_valid_form_is_a_400():
    form = _Form({"days": "3"})
    assert form.is_valid()
    form.add_error("days", "Too many for this agent.")
    assert form_status(form) == 400


def test_one_refused_form_among_several_makes_the_page_a_400():
    assert form_status(_Form(), None, _Form({"days": "0"})) == 400


def test_a_refusal_the_view_shows_outside_a_form_is_a_400():
    assert form_status(refused=True) == 400
    assert form_status(_Form(), refused=False) == 200


def test_paginate_keeps_the_filters_and_drops_the_page():
    request = RequestFactory().get("/x/", {"status": "pending", "page": "2"})
    page, query = paginate(request, list(range(5)), 2)
    assert list(page) == [2, 3]
    assert query == "status=pending"
