"""A page's title is text: the browser shows whatever stands in <title> as the tab's name, so
markup there (a script tag put in the wrong block) is shown to the user as text."""

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
TITLE_BLOCK = re.compile(r"{% block title %}(.*?){% endblock %}", re.S)


def titled_templates() -> list[Path]:
    return [
        path
        for path in sorted(TEMPLATES.rglob("*.html"))
        if "{% block title %}" in path.read_text()
    ]


@pytest.mark.parametrize(
    "path", titled_templates(), ids=lambda path: str(path.relative_to(TEMPLATES))
)
def test_a_title_block_holds_text_only(path):
    for title in TITLE_BLOCK.findall(path.read_text()):
        assert "<" not in title, f"{path.name}: markup in the page title: {title!r}"


def test_the_exception_page_s_title_is_its_name(client, security, db):
    from tests.exceptions.factories import ExceptionFactory

    exception = ExceptionFactory()
    client.force_login(security)
    page = client.get(f"/exceptions/{exception.pk}/").content.decode()
    assert f"<title>Exception #{exception.pk} · Agent Governance Portal</title>" in page
