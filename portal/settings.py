"""Settings for the Agent Governance Portal, configured entirely by environment variables.

The embedded default (no variables set) is a development portal on a SQLite file with Celery
tasks run eagerly in-process. Production sets DEBUG=false, SECRET_KEY, ALLOWED_HOSTS,
DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (Redis). See README.md.
"""

from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from kernel.env import env_bool, env_int, env_list, env_str, env_url, env_url_list
from portal.databases import default_database

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", default=True)

_DEV_SECRET_KEY = "django-insecure-development-only-never-in-production"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off: generate one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
        )
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
CSRF_FAILURE_VIEW = "portal.views.csrf_failure"  # says what to do, not Django's debug page

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "auditlog",
    "csp",
    # The portal's bounded contexts, lowest layer first (pyproject.toml checks the direction).
    "kernel",
    "registry",
    "controls",
    "approvals",
    "access",
    "exceptions",
    "decisions",
    "credentials",
    "directory",
    "compliance",
    "agent_mcp",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "kernel.middleware.RefuseNulMiddleware",
    "kernel.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "directory.csp.SignInCSPMiddleware",  # django-csp, plus the IdP in form-action
    "kernel.middleware.ApiOnlySessionMiddleware",
    "kernel.middleware.AuditContextMiddleware",
    "kernel.middleware.ApplicationErrorMiddleware",
]

if not DEBUG:
    # Static files are served by WhiteNoise in production (after `collectstatic`).
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.navigation",
                "portal.context_processors.limits",
            ],
        },
    },
]

# DATABASE_URL, with each engine's options: on the embedded SQLite default, WAL, a busy
# timeout and transactions that take the write lock at BEGIN, so concurrent writes wait their
# turn instead of failing "database is locked" (portal/databases.py says why each).
DATABASES = {"default": default_database(BASE_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Security headers: on whenever DEBUG is off, so `manage.py check --deploy` is clean.
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Content-Security-Policy on every response: this origin only, no inline script or style
# (scripts and styles live in static/). The Swagger page at /api/docs/ loosens it for itself.
_SELF = "'self'"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [_SELF],
        "script-src": [_SELF],
        "style-src": [_SELF],
        "img-src": [_SELF],
        "connect-src": [_SELF],
        "font-src": [_SELF],
        "object-src": ["'none'"],
        "base-uri": [_SELF],
        "form-action": [_SELF],
        "frame-ancestors": ["'none'"],
    }
}

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "portal@localhost")
SECURITY_TEAM_EMAIL = env_str("SECURITY_TEAM_EMAIL", "")

# Notices (kernel.notifications) go by email and, when set, to a Slack incoming webhook and to
# generic webhooks (JSON, signed: X-Portal-Signature: sha256=<HMAC-SHA256 of the body with
# WEBHOOK_SECRET>), each delivery an outbox row retried on its own. Links in them start with
# PORTAL_BASE_URL, the portal's public address.
PORTAL_BASE_URL = env_url("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
SLACK_WEBHOOK_URL = env_url("SLACK_WEBHOOK_URL")
WEBHOOK_URLS = env_url_list("WEBHOOK_URLS")
WEBHOOK_SECRET = env_str("WEBHOOK_SECRET")
if WEBHOOK_URLS and len(WEBHOOK_SECRET) < 16:
    raise ImproperlyConfigured(
        "WEBHOOK_URLS is set, so WEBHOOK_SECRET must be too (at least 16 characters) for "
        "receivers to check the X-Portal-Signature header: generate one with "
        "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`."
    )
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 5, low=1, high=60, unit="seconds")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "kernel.api.authentication.TokenWithRolesAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "kernel.api.errors.exception_handler",
    # JSON bounded in size (DATA_UPLOAD_MAX_MEMORY_SIZE) and depth, NUL refused: a 400, not a 500.
    "DEFAULT_PARSER_CLASSES": [
        "kernel.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Agent Governance Portal API",
    "DESCRIPTION": "Registry, just-in-time access, exceptions, decisions and compliance "
    "evidence for AI coding agents.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI assets are served from the installed package: no CDN needed.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "AgentStatusEnum": "registry.models.AgentStatus",
        "PolicyStatusEnum": "registry.models.PolicyStatus",
        "TierEnum": "registry.models.Tier",
    },
}

# Celery: without a broker, tasks run eagerly in-process (the embedded default).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", CELERY_BROKER_URL)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
# A write never waits for the broker (the outbox holds its work); these bound everything else.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "kernel-dispatch-outbox": {"task": "kernel.dispatch_outbox", "schedule": 10.0},
    "compliance-requeue-lost-packages": {
        "task": "compliance.requeue_lost_packages",
        "schedule": 300.0,
    },
    "portal-heartbeat": {"task": "kernel.tasks.heartbeat", "schedule": crontab(minute="*/5")},
    "access-expire-grants": {"task": "access.tasks.expire_grants", "schedule": 60.0},
    "access-remind-expiring-grants": {
        "task": "access.tasks.remind_expiring_grants",
        "schedule": 300.0,
    },
    "access-expire-stale-requests": {
        "task": "access.tasks.expire_stale_requests",
        "schedule": crontab(minute=7),
    },
    "exceptions-expire": {"task": "exceptions.tasks.expire_exceptions", "schedule": 300.0},
    "exceptions-remind-expiring": {
        "task": "exceptions.tasks.remind_expiring_exceptions",
        "schedule": crontab(minute=17),
    },
    # The decision log's and activity's monthly partitions (PostgreSQL): made ahead daily, and
    # those past retention dropped nightly, after the closed days are rolled up.
    "decisions-ensure-partitions": {
        "task": "decisions.tasks.ensure_partitions",
        "schedule": crontab(hour=1, minute=27),
    },
    "decisions-prune": {
        "task": "decisions.tasks.prune_decisions",
        "schedule": crontab(hour=3, minute=41),
    },
    # Daily rollups of the closed days, a late row's day, a reviewed day (decisions/rollups.py):
    # a run with nothing due reads only the rows inserted since the one before, by key.
    "decisions-roll-up": {"task": "decisions.tasks.roll_up", "schedule": 600.0},
}

# An API token expires this many hours after it was issued (POST /api/v1/auth/token/ again).
API_TOKEN_TTL_HOURS = env_int("API_TOKEN_TTL_HOURS", 720)

# Agents not attested within this window are stale.
ATTESTATION_MAX_AGE = timedelta(days=env_int("ATTESTATION_MAX_AGE_DAYS", 90))

# Login and token throttling count failures in the cache: with several processes, point it at
# a shared store (e.g. redis://redis:6379/1) so every process sees the same counts.
CACHE_URL = env_str("CACHE_URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Only the root prints: Django's own handler (DEBUG) printed each line a second time.
        "django": {"handlers": [], "propagate": True},
        # WeasyPrint (PDF export) logs each rendering step and each CSS rule it skips.
        **{name: {"level": "ERROR"} for name in ("weasyprint", "fontTools")},
    },
}

# The longest time box a jit/approval policy rule may allow: no standing access in disguise.
POLICY_MAX_DURATION_HOURS = env_int("POLICY_MAX_DURATION_HOURS", 168)

# A pending access request not decided within this many days expires by itself.
ACCESS_REQUEST_STALE_DAYS = env_int("ACCESS_REQUEST_STALE_DAYS", 7)
# Break-glass grants last at most this long.
BREAK_GLASS_MAX_HOURS = env_int("BREAK_GLASS_MAX_HOURS", 1)
# An allow decision covers an agent's reported action for this long after it was given.
DECISION_COVERS_ACTIVITY_SECONDS = env_int("DECISION_COVERS_ACTIVITY_SECONDS", 300)
# On PostgreSQL the decision log and activity are partitioned by month: the daily task keeps
# this month's partition and this many more ready (decisions/partitions.py).
PARTITION_MONTHS_AHEAD = env_int("PARTITION_MONTHS_AHEAD", 3, low=1, high=24, unit="months")
# Raw decisions and activity are kept this many days; whole months past it are dropped (rolled
# up first: reports keep their daily counts). decisions/retention.py, manage.py prune_decisions.
DECISION_RETENTION_DAYS = env_int("DECISION_RETENTION_DAYS", 400, low=1, high=36_500, unit="days")
ACTIVITY_RETENTION_DAYS = env_int("ACTIVITY_RETENTION_DAYS", 400, low=1, high=36_500, unit="days")
# Whether an action had a decision shortly before it (AGC-05) is read from the decisions: they
# must outlive the activity they judge.
if ACTIVITY_RETENTION_DAYS > DECISION_RETENTION_DAYS:
    raise ImproperlyConfigured(
        "ACTIVITY_RETENTION_DAYS must not exceed DECISION_RETENTION_DAYS: whether an action was "
        "logged is read from the decisions before it."
    )

# Short-lived credentials (credentials/): the token endpoint exchanges a workload's subject
# token for an access token signed by the portal. PORTAL_ISSUER is the `iss` of those tokens
# and the base of the discovery document's addresses: the portal's public URL.
PORTAL_ISSUER = env_str("PORTAL_ISSUER", "http://127.0.0.1:8000").rstrip("/")
# An access token lives at most this long (and never past the grant or exception behind it).
CREDENTIAL_MAX_TTL_SECONDS = env_int("CREDENTIAL_MAX_TTL_SECONDS", 900)
# ES256 (P-256) or EdDSA (Ed25519): the algorithm of the keys `rotate_signing_key` makes.
CREDENTIAL_SIGNING_ALGORITHM = env_str("CREDENTIAL_SIGNING_ALGORITHM", "ES256")
# A signing key older than this shows on security's dashboard (rotate it).
SIGNING_KEY_MAX_AGE_DAYS = env_int("SIGNING_KEY_MAX_AGE_DAYS", 90)
# Private signing keys are stored encrypted (Fernet) with the first of these keys; the others
# still decrypt (rotation). Unset: a key derived from SECRET_KEY (set your own in production:
# `python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`).
CREDENTIAL_KEY_ENCRYPTION_KEYS = env_list("CREDENTIAL_KEY_ENCRYPTION_KEYS")
# Trust providers' JWKS: fetched with this timeout, cached this long, and fetched again for an
# unknown `kid` at most once per JWKS_REFETCH_MIN_SECONDS.
JWKS_FETCH_TIMEOUT_SECONDS = env_int("JWKS_FETCH_TIMEOUT_SECONDS", 2)
JWKS_CACHE_SECONDS = env_int("JWKS_CACHE_SECONDS", 300)
JWKS_REFETCH_MIN_SECONDS = env_int("JWKS_REFETCH_MIN_SECONDS", 30)

# People sign in through the company's identity provider (directory/): OpenID Connect with
# PKCE, the endpoints discovered from OIDC_ISSUER. Unset: password logins only (the demo).
OIDC_ISSUER = env_str("OIDC_ISSUER").rstrip("/")
OIDC_PROVIDER_NAME = env_str("OIDC_PROVIDER_NAME", "SSO")
OIDC_GROUPS_CLAIM = env_str("OIDC_GROUPS_CLAIM", "groups")
# role=IdP group pairs, e.g. "security=gov-security,auditor=gov-auditors,engineer=gov-engineers".
OIDC_ROLE_GROUPS = env_list("OIDC_ROLE_GROUPS")
OIDC_TEAM_GROUP_PREFIX = env_str("OIDC_TEAM_GROUP_PREFIX", "team-")
# The password form: on for everyone (the embedded demo), or, when false, for superusers only
# (the documented break-glass path when the IdP is down). Production with SSO: false.
PASSWORD_LOGIN = env_bool("PASSWORD_LOGIN", default=True)
# mozilla-django-oidc reads these names.
OIDC_RP_CLIENT_ID = env_str("OIDC_CLIENT_ID")
OIDC_RP_CLIENT_SECRET = env_str("OIDC_CLIENT_SECRET")
OIDC_RP_SCOPES = env_str("OIDC_SCOPES", "openid email profile groups")
OIDC_RP_SIGN_ALGO = env_str("OIDC_SIGN_ALGORITHM", "RS256")
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
OIDC_STORE_ID_TOKEN = True  # the id_token_hint of RP-initiated logout
OIDC_TIMEOUT = env_int("OIDC_TIMEOUT_SECONDS", 5)
OIDC_OP_LOGOUT_URL_METHOD = "directory.oidc.provider_logout_url"
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_authentication_callback"
LOGIN_REDIRECT_URL_FAILURE = "/accounts/sso-failed/"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    *(["directory.oidc.PortalOIDCBackend"] if OIDC_ISSUER else []),
]

# SCIM 2.0 provisioning at /scim/v2/ (django-scim2): the IdP's SCIM client authenticates with
# this bearer token (unset: SCIM answers 401 to everyone).
SCIM_BEARER_TOKEN = env_str("SCIM_BEARER_TOKEN")
SCIM_SERVICE_PROVIDER = {
    "NETLOC": env_str("SCIM_NETLOC", "localhost"),
    "SCHEME": "https" if not DEBUG else "http",
    "AUTHENTICATION_SCHEMES": [
        {
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "The token in SCIM_BEARER_TOKEN, as `Authorization: Bearer <token>`.",
        }
    ],
    "USER_ADAPTER": "directory.scim.PortalSCIMUser",
    "GROUP_MODEL": "directory.models.DirectoryGroup",
    "GROUP_ADAPTER": "directory.scim.PortalSCIMGroup",
    "USER_FILTER_PARSER": "directory.scim_filters.UserFilterQuery",
    "GROUP_FILTER_PARSER": "directory.scim_filters.GroupFilterQuery",
    "AUTH_CHECK_MIDDLEWARE": "directory.scim.BearerTokenCheck",
    "GET_EXTRA_MODEL_EXCLUDE_KWARGS_GETTER": "directory.scim.excluded_from_scim",
    "GET_OBJECT_POST_PROCESSOR_GETTER": "directory.scim.hide_deleted",
    "WWW_AUTHENTICATE_HEADER": 'Bearer realm="scim"',
}
