"""Credentials benchmark: the token exchange (RFC 8693) against the decision, in one run.

Data (SQLite in the temp directory unless BENCH_CREDENTIALS_DATABASE_URL names another
database, e.g. postgres://postgres@127.0.0.1:5432/portal_bench_cred; created if missing,
filled once): the demo data, BENCH_CRED_AGENTS agents under the demo policy v1, each bound to
a workload of a bench trust provider whose keys are inline (no JWKS fetch), every tenth one
in production with an active grant (github:read is jit there), the others standing allows.
Measures, for github:read:
(a) the in-process decision (decide_and_record) and (b) the in-process exchange (verify,
bind, decide, record, sign, record the credential), alternated sample by sample so both see
the same machine, with subject tokens minted before timing (minting is the workload's cost);
(c) under gunicorn with wrk, /oauth/token/ exchanges per second against /healthz, in
interleaved rounds, the median round reported. Run with `make bench` or
`python bench/credentials.py`.
"""

import contextlib
import os
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_DB = os.environ.get(
    "BENCH_CREDENTIALS_DATABASE_URL",
    f"sqlite:///{Path(tempfile.gettempdir()) / 'portal_bench_credentials.sqlite3'}",
)
# The in-process runs and gunicorn share the settings that matter: the signing key is stored
# encrypted under a key derived from SECRET_KEY, so both must have the same one.
SERVER_ENV = {
    "DATABASE_URL": BENCH_DB,
    "DEBUG": "false",
    "SECRET_KEY": "bench-" + "k" * 60,
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "false",
    "DATABASE_CONN_MAX_AGE": "600",
}
os.environ.update(SERVER_ENV)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.pop("CELERY_BROKER_URL", None)

AGENTS = int(os.environ.get("BENCH_CRED_AGENTS", 1_000))
SAMPLES = int(os.environ.get("BENCH_CRED_SAMPLES", 2_000))
HTTP_SECONDS = int(os.environ.get("BENCH_HTTP_SECONDS", 10))
HTTP_TOKENS = 500
CAPABILITY = "github:read"
PROVIDER = "bench-ci"
ISSUER = "https://ci.bench.example"
AUDIENCE = "agent-governance-portal-bench"
KID = "bench-ci-1"


def slug(i: int) -> str:
    return f"bench-cred-{i:05d}"


def subject(i: int) -> str:
    return f"repo:acme/bench-{i}:ref:refs/heads/main"


def trust_provider(signing_key):
    """The bench platform, its public key inline; its tokens may be a day old (long runs)."""
    import jwt

    from credentials.limits import MAX_TOKEN_AGE_SECONDS
    from credentials.models import TrustProvider

    jwk = jwt.get_algorithm_by_name("ES256").to_jwk(signing_key.public_key(), as_dict=True)
    provider, _ = TrustProvider.objects.update_or_create(
        slug=PROVIDER,
        defaults={
            "name": "Bench CI",
            "issuer": ISSUER,
            "jwks_uri": "",
            "jwks": {"keys": [{**jwk, "kid": KID, "alg": "ES256", "use": "sig"}]},
            "audience": AUDIENCE,
            "algorithms": ["ES256"],
            "max_token_age_seconds": MAX_TOKEN_AGE_SECONDS,
        },
    )
    return provider


def populate(provider) -> None:
    """Idempotent: agents and bindings once per bench database; grants topped up each run."""
    from django.contrib.auth.models import User
    from django.db import connection
    from django.utils import timezone

    from credentials.models import BindingStatus, IdentityBinding
    from registry.models import Agent, Team

    alice = User.objects.get(username="alice")
    team = Team.objects.get(slug="payments")
    now = timezone.now()
    if not Agent.objects.filter(slug=slug(AGENTS - 1)).exists():
        print(f"generating {AGENTS} agents and identity bindings …", flush=True)
        Agent.objects.bulk_create(
            [
                Agent(
                    slug=slug(i),
                    name=f"Bench credentials {i}",
                    owner=alice,
                    team=team,
                    tier="production" if i % 10 == 0 else ("sandbox", "internal")[i % 2],
                    status="active",
                    workload_identity=f"spiffe://bench/cred/{i}",
                    last_attested_at=now,
                )
                for i in range(AGENTS)
            ],
            batch_size=1000,
            ignore_conflicts=True,
        )
    agents = dict(Agent.objects.filter(slug__startswith="bench-cred-").values_list("slug", "pk"))
    bound = set(
        IdentityBinding.objects.filter(provider=provider).values_list("agent__slug", flat=True)
    )
    IdentityBinding.objects.bulk_create(
        [
            IdentityBinding(
                agent_id=agents[slug(i)],
                provider=provider,
                subject=subject(i),
                claims={"repository": f"acme/bench-{i}", "ref": "refs/heads/*"},
                requested_by=alice,
                required_approvals=0,
                status=BindingStatus.ACTIVE,
                activated_at=now,
            )
            for i in range(AGENTS)
            if slug(i) not in bound
        ],
        batch_size=1000,
    )
    top_up_grants(agents, now)
    with connection.cursor() as cursor:  # plan with the bulk-inserted rows counted
        cursor.execute("ANALYZE")


def top_up_grants(agents: dict[str, int], now) -> None:
    """Production agents hold an active github:read grant (a jit allow): the grant path."""
    from access.models import Grant
    from registry.models import Capability

    capability = Capability.objects.get(key=CAPABILITY)
    production = [pk for name, pk in agents.items() if int(name.rsplit("-", 1)[1]) % 10 == 0]
    holding = set(
        Grant.objects.filter(
            agent_id__in=production,
            capability=capability,
            revoked_at__isnull=True,
            starts_at__lte=now,
            expires_at__gt=now + timedelta(hours=1),
        ).values_list("agent_id", flat=True)
    )
    Grant.objects.bulk_create(
        [
            Grant(
                agent_id=pk,
                capability=capability,
                starts_at=now - timedelta(minutes=5),
                expires_at=now + timedelta(hours=24),
                scope="",
            )
            for pk in production
            if pk not in holding
        ]
    )


def mint(signing_key, i: int, now: int) -> str:
    """A subject token, as the platform signs it for workload i (valid for the whole run)."""
    import jwt

    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": subject(i),
        "iat": now,
        "nbf": now,
        "exp": now + 6 * 3600,
        "jti": f"bench-{i}-{random.getrandbits(64):x}",
        "repository": f"acme/bench-{i}",
        "ref": "refs/heads/main",
        "event_name": "push",
    }
    return jwt.encode(claims, signing_key, algorithm="ES256", headers={"kid": KID})


def ready_signing_key() -> None:
    """The portal's active key, usable with this SECRET_KEY (a new one if it is not)."""
    from django.core.exceptions import ImproperlyConfigured

    from credentials import keys

    try:
        keys.active_key()
    except ImproperlyConfigured:
        keys.rotate()


def bench_in_process(workloads: list[int], tokens: list[str]) -> dict:
    """Decision and exchange alternated sample by sample; the first 200 of each warm up."""
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.harness import summarize
    from credentials.services.exchange import exchange
    from decisions.services.log import decide_and_record

    gateway = User.objects.get(username="gateway")
    queries: dict[str, list[int]] = {"decision": [], "exchange": []}
    for i, token in zip(workloads[:200], tokens[:200], strict=True):
        with CaptureQueriesContext(connection) as captured:
            result, _ = decide_and_record(
                agent_slug=slug(i), capability_key=CAPABILITY, caller=gateway
            )
        assert result.allowed, result.reason
        queries["decision"].append(len(captured))
        with CaptureQueriesContext(connection) as captured:
            exchange(subject_token=token, scope=CAPABILITY, resource=[])
        queries["exchange"].append(len(captured))
    decision, exchanged = [], []
    for i, token in zip(workloads, tokens, strict=True):
        started = time.perf_counter()
        decide_and_record(agent_slug=slug(i), capability_key=CAPABILITY, caller=gateway)
        decided = time.perf_counter()
        exchange(subject_token=token, scope=CAPABILITY, resource=[])
        decision.append(decided - started)
        exchanged.append(time.perf_counter() - decided)
    decision_stats, exchange_stats = summarize(decision), summarize(exchanged)
    return {
        "decision": decision_stats,
        "exchange": exchange_stats,
        "exchange_over_decision": round(
            exchange_stats["median_ms"] / decision_stats["median_ms"], 3
        ),
        "max_queries": {name: max(counts[10:]) for name, counts in queries.items()},
        "parts": exchange_parts(tokens[:1000]),
    }


def exchange_parts(tokens: list[str]) -> dict:
    """Where an exchange's time goes, without the database: verifying and signing alone."""
    import jwt
    from django.utils import timezone

    from bench.harness import summarize
    from credentials import keys
    from credentials.subject_tokens import verify

    now = timezone.now()
    verifying = []
    for token in tokens:
        started = time.perf_counter()
        verify(token, now=now)
        verifying.append(time.perf_counter() - started)
    signer = keys.active_key()
    claims = {"iss": "bench", "sub": "agent:bench", "exp": 2_000_000_000, "scope": CAPABILITY}
    signing = []
    for _ in tokens:
        started = time.perf_counter()
        jwt.encode(claims, signer.private_key, algorithm="ES256", headers={"kid": signer.row.kid})
        signing.append(time.perf_counter() - started)
    return {"verify_subject_token": summarize(verifying), "sign_access_token": summarize(signing)}


def exchange_bodies(tokens: list[str]) -> list[str]:
    return [
        urlencode(
            {
                "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
                "subject_token": token,
                "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
                "scope": CAPABILITY,
            }
        )
        for token in tokens
    ]


def bench_http(tokens: list[str]) -> dict:
    from bench import harness
    from bench.harness import NoFigure, gunicorn, median_round, ratio, warm_up, wrk, wrk_form

    workers, connections = harness.HTTP_WORKERS, harness.HTTP_CONNECTIONS  # as decisions.py
    rounds = int(os.environ.get("BENCH_HTTP_ROUNDS", 3))
    post = {"path": "/oauth/token/", "bodies": exchange_bodies(tokens)}
    with gunicorn(SERVER_ENV, workers=workers) as base:
        warm_up(base, connections)
        with contextlib.suppress(NoFigure):  # a warm-up that got nothing: the rounds will say
            wrk_form(base + "/oauth/token/", seconds=2, connections=connections, **post)
        pairs = []
        for _ in range(rounds):  # alternate, so both see the same machine
            try:
                healthz = wrk(f"{base}/healthz", seconds=HTTP_SECONDS, connections=connections)
            except NoFigure as exc:  # every request timed out: nothing to compare
                print(f"a round where /healthz answered nothing (machine stalled?): skipped: {exc}")
                continue
            exchanges = wrk_form(
                base + "/oauth/token/", seconds=HTTP_SECONDS, connections=connections, **post
            )
            rate = ratio(exchanges["requests_per_second"], healthz["requests_per_second"], "hz")
            pairs.append((rate, healthz, exchanges))
    if not pairs:
        raise NoFigure("/healthz answered nothing in every round")
    rate, healthz, exchanges = median_round(pairs)
    return {
        "workers": workers,
        "connections": connections,
        "rounds": rounds,
        "ratios": sorted(pair[0] for pair in pairs),
        "non_2xx": sum(pair[2]["non_2xx"] for pair in pairs),
        "healthz": healthz,
        "exchanges": exchanges,
        "exchanges_vs_healthz": rate,
    }


def prepare() -> tuple[list[int], list[str], list[str]]:
    """Database, data, keys; then the subject tokens, minted before anything is timed."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    platform_key = ec.generate_private_key(ec.SECP256R1())
    populate(trust_provider(platform_key))
    ready_signing_key()
    rng = random.Random(12)
    workloads = [rng.randrange(AGENTS) for _ in range(SAMPLES)]
    now = int(time.time())
    tokens = [mint(platform_key, i, now) for i in workloads]
    http_tokens = [mint(platform_key, i, now) for i in rng.sample(range(AGENTS), HTTP_TOKENS)]
    return workloads, tokens, http_tokens


def main() -> dict:
    if BENCH_DB.startswith("postgres"):
        from bench.harness import ensure_database

        ensure_database(BENCH_DB)
    import django

    django.setup()
    from django.db import connection

    from bench.harness import figure, save

    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})", flush=True)
    workloads, tokens, http_tokens = prepare()
    in_process = bench_in_process(workloads, tokens)
    http, missing = figure("http exchanges_vs_healthz", lambda: bench_http(http_tokens))
    figures = {
        "database": connection.vendor,
        "data": {"agents": AGENTS, "samples": SAMPLES, "capability": CAPABILITY},
        "in_process": in_process,
        "http": http if http is not None else {"exchanges_vs_healthz": None, "missing": missing},
    }
    path = save(f"credentials-{connection.vendor}", figures)
    report(path, in_process, http)
    return figures


def report(path: Path, in_process: dict, http: dict | None) -> None:
    decision, exchanged = in_process["decision"], in_process["exchange"]
    parts = in_process["parts"]
    print(f"credentials benchmark → {path}")
    print(
        f"in-process: decision median {decision['median_ms']} ms (p99 {decision['p99_ms']} ms, "
        f"≤{in_process['max_queries']['decision']} queries); exchange median "
        f"{exchanged['median_ms']} ms (p99 {exchanged['p99_ms']} ms, "
        f"≤{in_process['max_queries']['exchange']} queries); "
        f"ratio {in_process['exchange_over_decision']} (target ≤ 3)"
    )
    print(
        f"in-process parts: verify subject token median "
        f"{parts['verify_subject_token']['median_ms']} ms, sign access token median "
        f"{parts['sign_access_token']['median_ms']} ms"
    )
    if http is None:  # figure() said why
        return
    print(
        f"http: {http['exchanges']['requests_per_second']} exchanges/s "
        f"(p50 {http['exchanges']['p50_ms']} ms, p99 {http['exchanges']['p99_ms']} ms, "
        f"non-2xx {http['non_2xx']}), healthz {http['healthz']['requests_per_second']} req/s, "
        f"ratio {http['exchanges_vs_healthz']} (target ≥ 0.3; rounds {http['ratios']})"
    )


if __name__ == "__main__":
    main()
