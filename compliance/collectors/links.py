"""Links from samples to the portal's pages, where those pages exist."""

from django.urls import NoReverseMatch, reverse


def url_or_blank(name: str, **kwargs: object) -> str:
    """A page another app may not have shipped yet is no link, rather than a broken report."""
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return ""


def agent_url(slug: str | None) -> str:
    return url_or_blank("registry:agent-detail", slug=slug) if slug else ""
