"""The one permission source: the role gates of HTML views, the API and templates all read
kernel.permissions.ACTIONS, and refuse with its text."""

import pytest
from django.http import HttpResponse
from django.template import Context, Template
from django.test import RequestFactory
from rest_framework.views import APIView

from kernel.api.permissions import ActionPermission, required_actions
from kernel.errors import Forbidden
from kernel.http import requires
from kernel.permissions import ACTIONS, Action

pytestmark = pytest.mark.django_db


@requires(Action.VIEW_COMPLIANCE, write=Action.MANAGE_CONTROLS)
def _page(request):
    return HttpResponse("ok")


@pytest.mark.parametrize(
    ("role", "method", "allowed"),
    [
        ("engineer", "get", True),
        ("engineer", "post", False),
        ("security", "post", True),
        ("gateway", "get", False),
    ],
)
def test_requires_gates_reads_and_writes_with_the_tables_refusal(role_users, role, method, allowed):
    request = getattr(RequestFactory(), method)("/page/")
    request.user = role_users[role]
    if allowed:
        assert _page(request).status_code == 200
        return
    needed = Action.MANAGE_CONTROLS if method == "post" else Action.VIEW_COMPLIANCE
    with pytest.raises(Forbidden, match=ACTIONS[needed].refusal):
        _page(request)


def test_requires_sends_the_anonymous_to_sign_in():
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/page/")
    request.user = AnonymousUser()
    response = _page(request)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


class _Reads(APIView):
    action_permissions = {"read": Action.VIEW_PORTAL}

    def get(self, request):
        return HttpResponse("ok")


class _ReadsAndPosts(_Reads):
    def post(self, request):
        return HttpResponse("ok")


def test_action_permission_reads_the_table_and_refuses_with_its_text(role_users):
    view = _Reads()
    request = RequestFactory().get("/x/")
    request.user = role_users["gateway"]
    permission = ActionPermission()
    assert permission.has_permission(request, view) is False
    assert permission.message == ACTIONS[Action.VIEW_PORTAL].refusal
    request.user = role_users["auditor"]
    assert ActionPermission().has_permission(request, view) is True


def test_a_method_the_view_does_not_answer_needs_read_so_readers_learn_of_the_405():
    assert required_actions(RequestFactory().delete("/x/"), _Reads()) == (Action.VIEW_PORTAL,)


def test_a_write_the_table_forgets_is_a_programming_error():
    with pytest.raises(KeyError, match="_ReadsAndPosts names no action for POST"):
        required_actions(RequestFactory().post("/x/"), _ReadsAndPosts())


@pytest.mark.parametrize(("role", "shown"), [("security", "yes"), ("auditor", "no")])
def test_templates_ask_the_can_filter(role_users, role, shown):
    template = Template(
        '{% load permissions %}{% if user|can:"approve" %}yes{% else %}no{% endif %}'
    )
    assert template.render(Context({"user": role_users[role]})) == shown


def test_the_can_filter_refuses_an_unknown_action(role_users):
    template = Template('{% load permissions %}{{ user|can:"aprove" }}')
    with pytest.raises(ValueError, match="aprove"):
        template.render(Context({"user": role_users["security"]}))
