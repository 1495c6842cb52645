"""The report's stylesheet written into the page, for the PDF renderer (it fetches nothing).
The HTML report links the same file (static/css/report.css), which the CSP allows."""

from django import template
from django.contrib.staticfiles import finders
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def inline_stylesheet(path: str) -> SafeString:
    found = finders.find(path)
    if not found:
        return mark_safe("")
    with open(found, encoding="utf-8") as handle:
        css = handle.read()
    # A stylesheet of our own, from static/: it is no user input.
    return mark_safe(f"<style>\n{css}</style>")  # noqa: S308
