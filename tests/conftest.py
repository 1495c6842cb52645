"""Role fixtures, API clients, and the rules for tests that need a real service.

A test marked `postgres`, `celery_worker` or `browser` skips when its service is absent,
unless PORTAL_REQUIRE names that service (CI does): then it fails.
"""

import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from kernel.roles import Role
from portal.celery import app as celery_app
from tests.portal.factories import make_user

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright + live_server

CHROMIUM = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")
REQUIRED = {s.strip() for s in os.environ.get("PORTAL_REQUIRE", "").split(",") if s.strip()}


def _redis_reachable() -> bool:
    url = settings.CELERY_BROKER_URL
    if not url.startswith("redis"):
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def _service_missing(marker: str) -> str | None:
    if marker == "postgres":
        engine = settings.DATABASES["default"]["ENGINE"]
        return None if engine.endswith("postgresql") else "needs DATABASE_URL on PostgreSQL"
    if marker == "celery_worker":
        return None if _redis_reachable() else "needs CELERY_BROKER_URL on a reachable Redis"
    if marker == "browser":
        found = Path(CHROMIUM).exists() or shutil.which(CHROMIUM)
        return None if found else f"needs Chromium at {CHROMIUM}"
    return None


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: they are transactional and flush the database afterwards, which
    would remove what data migrations loaded (catalogues, controls) for the tests after them.
    pytest-django orders transactional tests last, but the browser plugin's parametrisation
    can undo that. Under pytest-xdist (`--dist load`, the Makefile's) each worker is handed its
    tests in this order, on a database of its own."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


def pytest_configure(config: pytest.Config) -> None:
    # Hashing is deliberately slow; tests create many users and prove nothing about PBKDF2.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


SERVICE_OF_MARKER = {"postgres": "postgres", "celery_worker": "redis", "browser": "browser"}


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker, service in SERVICE_OF_MARKER.items():
        if item.get_closest_marker(marker) is None:
            continue
        missing = _service_missing(marker)
        if missing is None:
            continue
        if service in REQUIRED:
            pytest.fail(f"{missing} (required here: PORTAL_REQUIRE={','.join(sorted(REQUIRED))})")
        pytest.skip(missing)


@pytest.fixture(autouse=True)
def _eager_celery_unless_worker(request):
    """Tasks run in-process, except in tests that prove a real worker runs them."""
    if request.node.get_closest_marker("celery_worker"):
        yield
        return
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed(execute=True):` runs what the block queued for after commit."""
    return django_capture_on_commit_callbacks


@pytest.fixture
def engineer(db):
    return make_user("eve", Role.ENGINEER, first_name="Eve")


@pytest.fixture
def other_engineer(db):
    return make_user("oscar", Role.ENGINEER, first_name="Oscar")


@pytest.fixture
def security(db):
    return make_user("sec1", Role.SECURITY, first_name="Sec")


@pytest.fixture
def second_security(db):
    return make_user("sec2", Role.SECURITY, first_name="Second")


@pytest.fixture
def auditor(db):
    return make_user("aud", Role.AUDITOR, first_name="Aud")


@pytest.fixture
def gateway(db):
    return make_user("gw", Role.GATEWAY)


@pytest.fixture
def no_role_user(db):
    return make_user("norole")


@pytest.fixture
def role_users(engineer, security, auditor, gateway, no_role_user):
    return {
        "engineer": engineer,
        "security": security,
        "auditor": auditor,
        "gateway": gateway,
        "norole": no_role_user,
    }


@pytest.fixture
def api():
    """An API client; `api.as_user(user)` authenticates it with a real token."""
    from rest_framework.authtoken.models import Token

    client = APIClient()

    def as_user(user):
        if user is None:
            client.credentials()
        else:
            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    client.as_user = as_user
    return client


@pytest.fixture
def worker_queue(settings):
    """A real `celery worker` process on a queue of its own, on the test database and media
    directory; yields the queue name to send tasks to (`apply_async(queue=...)`)."""
    import subprocess
    import sys
    import uuid

    from django.db import connection

    queue = f"portal-test-{uuid.uuid4().hex[:8]}"
    # The test database of this xdist worker (test_portal_gw0, ...): pytest-django has renamed
    # it in settings_dict by now.
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "portal",
        "worker",
        "--pool=solo",
        "--concurrency=1",
        "-Q",
        queue,
        f"--hostname={queue}@%h",  # a node of its own beside another xdist worker's
        "--loglevel=WARNING",
        "--without-heartbeat",
        "--without-mingle",
        "--without-gossip",
    ]
    process = subprocess.Popen(command, cwd=Path(__file__).resolve().parents[1], env=env)  # noqa: S603
    try:
        yield queue
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session", autouse=True)
def _media_of_this_worker(tmp_path_factory):
    """Files the tests write (the demo platform's key that seed_demo makes, uploaded evidence)
    go to a directory of this run and this xdist worker, never the project's media/: two
    workers seeding the demo at once would write, and read, the same key file."""
    from django.test import override_settings

    with override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
        yield


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Login throttling counts failures in the cache: no test inherits another's count."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_policy_snapshot():
    """Each test builds its own database; no process-wide policy snapshot may leak across."""
    from decisions import policy_cache

    policy_cache.clear()
    yield
    policy_cache.clear()


@pytest.fixture(autouse=True)
def _fresh_signing_key():
    """The active signing key is kept in process memory; each test's database has its own."""
    from credentials import keys

    keys.forget_active_key()
    yield
    keys.forget_active_key()
