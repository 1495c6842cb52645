"""Hostile form posts never break an HTML page: every URL pattern that accepts POST, posted as
each role (engineer, security, auditor, anonymous) with an empty body and with a small fixed
set of hostile values (two values for one field, 10,000 characters, integers far beyond 64
bits, negatives, NaN, impossible and extreme dates, unicode oddities), answers 200, 302, 400,
403, 404 or 405, never a 5xx nor an exception, and a 4xx page says why (a role="alert"
message: the error page's or a form error).

The form fields are the ones the pages render: every page of the portal is read first (as
anonymous, engineer and security) and each `<form method="post">` is filed under the URL it
posts to, with the values it would post (an empty required input gets what a person would
type). Each hostile value is then posted in every field at once and, unless the empty post was
refused before the body is read (sign in, role, method), in each field alone with the others
as the page filled them, so that valid selects and required fields let the value reach the
form's checks and the service. Each post runs in a savepoint
that is rolled back: every post meets the same world (tests/portal/html_fuzz_world.py), and the
session cookie is put back (a post to the logout page does not sign the rest out).

The JSON API is fuzzed over its schema by tests/kernel/test_api_fuzz.py; this is its HTML twin.
"""

import copy
import datetime
import re
import traceback
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from decisions import policy_cache
from tests.portal.html_fuzz_world import ARGS, build

pytestmark = pytest.mark.django_db

# Not posted here, and why:
SKIPPED_PREFIXES = {
    "api/": "the JSON API: tests/kernel/test_api_fuzz.py fuzzes it over its OpenAPI schema",
    "admin/": "Django's own admin, for superusers; its forms are Django's, not the portal's",
    "oauth/": "the OAuth token and introspection endpoints: JSON for agents, not HTML forms",
    "scim/": "SCIM 2.0 for the identity provider: JSON with a bearer token, not HTML forms",
    ".well-known/": "public JSON metadata documents that only answer GET",
    "mcp": "the MCP server (streamable HTTP, JSON-RPC), mounted beside Django in portal.asgi",
}
SKIPPED_NAMES = {
    # Both redirect to, or are called back by, an OpenID provider (tests/idp runs one for the
    # sign-in tests, tests/directory); without one they only answer a redirect or a refusal.
    "oidc_authentication_init": "starts a sign-in at the identity provider",
    "oidc_authentication_callback": "the identity provider's callback with its signed code",
}

# The demo's people; sara, not sam: sam has already approved the pending request.
ROLES = {"engineer": "alice", "security": "sara", "auditor": "audrey", "anonymous": None}
ALLOWED = {200, 302, 400, 403, 404, 405}

HOSTILE: dict[str, str | list[str]] = {
    "two values": ["1", "2"],
    "10,000 characters": "x" * 10_000,
    "integer beyond 64 bits": "9" * 40,
    "negative": "-1",
    "negative beyond 64 bits": "-" + "9" * 40,
    "NaN": "NaN",
    "date 0000-00-00": "0000-00-00",
    "date 9999-12-31T23:59:59": "9999-12-31T23:59:59",
    # An emoji, a right-to-left mark, a letter with combining marks, a wide ligature.
    "unicode": "\U0001f600 \u200f\u202e e\u0301\u0338 \ufdfd",
}


# --- the URL patterns ----------------------------------------------------------------------


def _patterns(resolver: URLResolver, prefix: str = "", namespace: str = "") -> Iterator:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _patterns(entry, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), f"{namespace}{entry.name}", entry.callback


def _methods(view) -> set[str] | None:
    """The methods a view answers (its require_http_methods list, or a class view's), or
    None when it does not say (then it answers them all)."""
    if view_class := getattr(view, "view_class", None):
        return {m.upper() for m in view_class.http_method_names if hasattr(view_class, m)}
    while view is not None:
        code = getattr(view, "__code__", None)
        if code is not None and "request_method_list" in code.co_freevars:
            cell = view.__closure__[code.co_freevars.index("request_method_list")]
            return set(cell.cell_contents)
        view = getattr(view, "__wrapped__", None)
    return None


def html_patterns() -> list[tuple[str, str, set[str] | None]]:
    """(route, URL name, methods) of every HTML page: what the skip lists leave."""
    found = []
    for route, name, view in _patterns(get_resolver()):
        route = route.lstrip("^").replace("\\", "")  # a regex route: ^\.well-known/...
        if route.startswith(tuple(SKIPPED_PREFIXES)) or name in SKIPPED_NAMES:
            continue
        found.append((route, name, _methods(view)))
    return found


def _urls(name: str, route: str, world: dict) -> list[str]:
    """The route filled with ARGS (not `reverse`: the API has URL names of its own, the same)."""
    if "<" not in route:
        return ["/" + route]
    assert name in ARGS, f"{route} ({name}): add its URL arguments to ARGS (html_fuzz_world)"
    return ["/" + _filled(route, kwargs) for kwargs in ARGS[name](world)]


def _filled(route: str, kwargs: dict) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(kwargs[m.group(1)]), route)


# --- the forms the pages render --------------------------------------------------------------


FILLER = "fuzz-1"  # fits a slug, a name, a reason
A_FILE = "<a small PDF>"  # posted as a file upload (`post`)
PATTERNED = {"ref_id": "AGC-99"}  # a control's identifier


def _typed(a: dict[str, str], dated: int) -> str:
    """What a person would type in an empty input, so that the other fields are valid while
    one of them holds a hostile value: a number in range, a date the input allows (a week
    after the form's earlier dates: a start, then an end), a file, a word."""
    kind, today = a.get("type", "text"), timezone.localdate()
    if kind == "hidden" or "required" not in a:
        return ""
    if a.get("name") in PATTERNED:
        return PATTERNED[a["name"]]
    if kind == "number":
        return a.get("min") or "1"
    if kind == "date":
        return a.get("max") or a.get("min") or today.isoformat()
    if kind == "datetime-local":
        return f"{today + datetime.timedelta(days=1 + 7 * dated)}T12:00"
    if kind == "url":
        return "https://fuzz.example/"
    if kind == "file":
        return A_FILE
    return FILLER


class _Forms(HTMLParser):
    """Each POST form of a page: (action, {field: the value the page would post})."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str | None]]] = []
        self._fields: dict[str, str | None] | None = None
        self._select: str | None = None
        self._textarea: str | None = None
        self._required = False
        self._last = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            self._fields = {}
            self.forms.append((a.get("action", ""), self._fields))
        fields, name = self._fields, a.get("name")
        if tag == "option" and fields is not None and self._select and a.get("value"):
            if "selected" in a:
                fields[self._select], self._last = a["value"], False
            elif self._last:  # none chosen yet: the last option that is one
                fields[self._select] = a["value"]
        if fields is None or not name or name == "csrfmiddlewaretoken":
            return
        if tag == "input":
            unticked = a.get("type") in ("checkbox", "radio") and "checked" not in a
            if not (unticked and fields.get(name)):
                later = sum(1 for value in fields.values() if value and value.startswith("2"))
                fields[name] = None if unticked else a.get("value") or _typed(a, later)
        elif tag == "button":
            fields.setdefault(name, a.get("value", ""))
        elif tag == "textarea":
            fields[name], self._textarea = "", name
            self._required = "required" in a
        elif tag == "select":
            fields[name], self._select, self._last = "", name, True

    def handle_data(self, data: str) -> None:
        if self._textarea and self._fields is not None:
            self._fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea and self._fields is not None:
            typed = self._fields[self._textarea].strip()
            self._fields[self._textarea] = typed or (FILLER if self._required else "")
        if tag == "form":
            self._fields = None
        self._select = None if tag == "select" else self._select
        self._textarea = None if tag == "textarea" else self._textarea


def _drain(response: Any) -> None:
    """Let go of a download's file as the test client does: by reading it to the end. Not
    `response.close()`: that fires request_finished, whose close_old_connections closes the
    test's database connection (on PostgreSQL, inside the test's transaction: every later
    query fails). The client closed every other response itself, with that signal off."""
    if response.streaming:
        for _chunk in response.streaming_content:
            pass


def harvest_forms(pages: list[str], users: list[User | None]) -> dict[str, dict]:
    """URL path -> the fields of the forms that post there, as the pages fill them."""
    forms: dict[str, dict[str, str | None]] = {}
    for user in users:
        client = Client()
        if user is not None:
            client.force_login(user)
        for page in pages:
            response = client.get(page)
            _drain(response)
            if "text/html" not in response.get("Content-Type", ""):
                continue
            parser = _Forms()
            parser.feed(response.content.decode())
            for action, fields in parser.forms:
                target = forms.setdefault(urlsplit(urljoin(page, action)).path, {})
                for name, value in fields.items():
                    if target.get(name) is None:
                        target[name] = value
    return forms


# --- the posts -----------------------------------------------------------------------------


def _one_of_each(fields: dict[str, str | None]) -> list[str]:
    """The fields to post a value in alone: one of each kind, where names say the kind before a
    colon (the policy matrix's `effect:production:github:merge`, one cell for all)."""
    kinds: dict[str, str] = {}
    for name in fields:
        kinds.setdefault(name.split(":")[0], name)
    return list(kinds.values())


def payloads(fields: dict[str, str | None], *, alone: bool) -> Iterator[tuple[str, dict]]:
    """(what it is, the body): each hostile value in every field at once; with `alone`, also
    in each field alone, the others as the page filled them."""
    filled = {name: value for name, value in fields.items() if value is not None}
    for label, value in HOSTILE.items():
        if fields:
            yield f"{label} in every field", dict.fromkeys(fields, value)
        for name in _one_of_each(fields) if alone else ():
            yield f"{label} in {name!r} only", {**filled, name: value}


def _crash(exc: Exception) -> str:
    """The exception and where it came from: the last frame in the portal's own code."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/.venv/" not in f.filename and "site-packages" not in f.filename]
    frame = (ours or frames)[-1]
    return f"raised {exc!r:.300} at {frame.filename}:{frame.lineno} ({frame.line})"


def post(client: Client, url: str, body: dict) -> tuple[int | None, str, str]:
    """The status, where it redirects, and what is wrong with the answer ("" if nothing); the
    world and the client's session are left as they were."""
    cookies = copy.deepcopy(client.cookies)
    body = {
        name: SimpleUploadedFile("scan.pdf", b"%PDF-1.4 fuzz") if value == A_FILE else value
        for name, value in body.items()
    }
    try:
        with transaction.atomic():
            try:
                response = client.post(url, body)
            finally:
                transaction.set_rollback(True)
    except Exception as exc:  # the crash is the finding
        return None, "", _crash(exc)
    finally:
        client.cookies = cookies
        cache.clear()  # failed logins are counted in the cache (kernel.throttle)
        policy_cache.clear()
    status, location = response.status_code, response.get("Location", "")
    silent = status >= 400 and not says_why(response.content.decode(errors="replace"))
    _drain(response)
    if status not in ALLOWED:
        return status, location, f"answered {status}"
    if silent:
        return status, location, f"answered {status} without saying why (no role=alert message)"
    return status, location, ""


class _Alerts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.depth, self.text = 0, ""

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if self.depth or ("role", "alert") in attrs:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        self.depth = max(0, self.depth - 1)

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.text += data


def says_why(page: str) -> bool:
    alerts = _Alerts()
    alerts.feed(page)
    return bool(alerts.text.strip())


def gated(status: int | None, location: str) -> bool:
    """Refused before the body is read: sign in first, not your role, or not a POST page."""
    return status in (403, 405) or (status == 302 and location.startswith("/accounts/login/"))


# --- the test ------------------------------------------------------------------------------

# (URL name, which of its ARGS) -> the fields of its forms: read once per run, the same for
# every role (the world is built the same way for each test).
_FORMS: dict[tuple[str, int], dict[str, str | None]] = {}


def targets(world: dict) -> list[tuple[str, int, str]]:
    """(URL name, which of its ARGS, URL) of every HTML page that accepts POST."""
    return [
        (name, n, url)
        for route, name, methods in html_patterns()
        if methods is None or "POST" in methods
        for n, url in enumerate(_urls(name, route, world))
    ]


def forms_of(world: dict) -> dict[tuple[str, int], dict[str, str | None]]:
    if not _FORMS:
        pages = [
            url
            for route, name, methods in html_patterns()
            if methods is None or "GET" in methods
            for url in _urls(name, route, world)
        ]
        people = [User.objects.get(username=ROLES[role]) for role in ("engineer", "security")]
        by_path = harvest_forms(pages, [None, *people])
        _FORMS.update({(name, n): by_path.get(url, {}) for name, n, url in targets(world)})
    return _FORMS


@pytest.fixture
def world() -> dict:
    return build()


@pytest.mark.parametrize("role", list(ROLES))
def test_no_hostile_post_breaks_an_html_page(client, world, role):
    forms = forms_of(world)
    if ROLES[role]:
        client.force_login(User.objects.get(username=ROLES[role]))
    failures, posts = [], 0
    for name, n, url in targets(world):
        fields = forms[(name, n)]
        status, location, problem = post(client, url, {})
        results = [("empty body", problem)]
        for payload, body in payloads(fields, alone=not gated(status, location)):
            results.append((payload, post(client, url, body)[2]))
        posts += len(results)
        failures += [
            f"POST {url} ({name}) as {role}, {payload}: {problem}"
            for payload, problem in results
            if problem
        ]
    assert posts > 300
    assert not failures, f"{len(failures)} of {posts} posts failed:\n" + "\n".join(failures)
