"""List filters, one way for the HTML pages and the API: a list selector takes the query
parameters as `filters` and runs the resource's django-filter FilterSet over its rows.

A bad value (`?tier=galaxy`) raises `InvalidFilters`: the API answers 400 with the field's
message (the exception handler maps every ApplicationError), and a page shows it on its
filter form. Never a 500, and never a silently ignored filter.
"""

from collections.abc import Callable, Mapping
from typing import Any

from django import forms
from django.db.models import QuerySet
from django_filters import FilterSet, IsoDateTimeFilter

from kernel.errors import ApplicationError
from kernel.validation import sane_year_validator


class InvalidFilters(ApplicationError):
    """A filter value the FilterSet refused; `form` is its bound form, with the errors, and
    `rows` the list's rows narrowed to none (what a page lists beside the refusal)."""

    def __init__(self, form: forms.Form, rows: QuerySet) -> None:
        errors = {name: [str(m) for m in messages] for name, messages in form.errors.items()}
        detail = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items())
        super().__init__(detail or "Invalid filters.", code="invalid", errors=errors)
        self.form = form
        self.errors = errors
        self.rows = rows

    def show_on(self, form: forms.Form) -> None:
        """Put these errors on a page's own filter form (bound, so it can hold errors). A form
        whose fields are named otherwise than the FilterSet's says so in `filter_names`."""
        form.is_valid()
        renamed: Mapping[str, str] = getattr(form, "filter_names", {})
        for filter_name, messages in self.errors.items():
            name = renamed.get(filter_name, filter_name)
            field = name if name in form.fields else None
            if field is None or not form.has_error(field):
                form.add_error(field, messages)


class UserFilterSet(FilterSet):
    """A FilterSet whose filters depend on who is looking (`mine`, `awaiting_me`)."""

    def __init__(self, data: Any = None, queryset: Any = None, *, user: Any = None, **kwargs):
        super().__init__(data, queryset, **kwargs)
        self.user = user


def filtered(
    filterset_class: type[FilterSet],
    queryset: QuerySet,
    filters: Mapping[str, str] | None,
    **kwargs: Any,
) -> QuerySet:
    """`queryset` narrowed by `filters` (query parameters; unknown names are ignored)."""
    filterset = filterset_class(filters if filters is not None else {}, queryset, **kwargs)
    if not filterset.is_valid():
        raise InvalidFilters(filterset.form, queryset.none())
    return filterset.qs


def page_rows(form: forms.Form, select: Callable[..., QuerySet], /, **kwargs: Any) -> QuerySet:
    """A list page's rows: what the selector returns, or, when it refuses a filter value, no
    rows and the refusal shown on the page's filter `form`."""
    try:
        return select(**kwargs)
    except InvalidFilters as exc:
        exc.show_on(form)
        return exc.rows


def filter_form(
    filterset_class: type[FilterSet], filters: Mapping[str, str] | None, **kwargs: Any
) -> forms.Form:
    """The FilterSet's form bound to `filters`, for a page to render."""
    return filterset_class(filters or None, **kwargs).form


def time_window(
    field: str, verb: str, *, since: str = "since", until: str = "until"
) -> tuple[IsoDateTimeFilter, IsoDateTimeFilter]:
    """A list's time filters on `field`: from `since` (inclusive) to `until` (exclusive), both
    ISO 8601 and in a sane year, labelled "<verb> since / before (UTC)". `since` and `until`
    name the parameters in the refusals."""
    return (
        IsoDateTimeFilter(
            field_name=field,
            lookup_expr="gte",
            label=f"{verb} since (UTC)",
            validators=[sane_year_validator(since)],
        ),
        IsoDateTimeFilter(
            field_name=field,
            lookup_expr="lt",
            label=f"{verb} before (UTC)",
            validators=[sane_year_validator(until)],
        ),
    )
