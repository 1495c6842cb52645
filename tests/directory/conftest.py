"""A real OpenID provider for the sign-in tests: `oidc-provider` on Node, from tests/idp/.

`start_oidc_provider(redirect_base=live_server.url)` starts one whose client `portal` may return
to `<redirect_base>/oidc/callback/` and, after sign-out, to `<redirect_base>/`; `oidc_provider`
is one started with the defaults (`http://127.0.0.1:9/cb`). Each test gets its own process and
accounts file, so `set_groups` in one test never leaks into another. Without Node or
tests/idp/node_modules (`make install` runs `npm ci`) these tests skip, unless PORTAL_REQUIRE
names `idp` (CI does): then they fail.
"""

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

IDP_DIR = Path(__file__).resolve().parents[1] / "idp"
REQUIRED = {s.strip() for s in os.environ.get("PORTAL_REQUIRE", "").split(",") if s.strip()}
# Node loading oidc-provider takes about a second when idle; a CI machine under load (two
# test stages and a browser at once) once took over 60 s. Waiting costs nothing when it starts.
READY_TIMEOUT = 180.0

DEFAULT_ACCOUNTS = {
    "sara": {
        "preferred_username": "sara",
        "email": "sara@example.test",
        "name": "Sara Security",
        "groups": ["gov-security"],
        "password": "sara-pw",
    },
    "eve": {
        "preferred_username": "eve",
        "email": "eve@example.test",
        "name": "Eve Engineer",
        "groups": ["gov-engineers", "team-payments"],
        "password": "eve-pw",
    },
}


@dataclass
class OidcProvider:
    """A running provider; its accounts file is re-read on every sign-in."""

    issuer: str
    client_id: str
    client_secret: str
    accounts_path: Path
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    process: subprocess.Popen[str] = field(repr=False)
    output: list[str] = field(default_factory=list, repr=False)

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def accounts(self) -> dict[str, dict]:
        return json.loads(self.accounts_path.read_text())

    def set_account(self, sub: str, **claims: object) -> None:
        """Adds or updates an account (preferred_username, email, name, groups, password)."""
        accounts = self.accounts()
        accounts[sub] = {**accounts.get(sub, {}), **claims}
        _write_json(self.accounts_path, accounts)

    def set_groups(self, sub: str, groups: list[str]) -> None:
        self.set_account(sub, groups=list(groups))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _write_json(path: Path, data: object) -> None:
    # Atomic, so the provider never reads a half-written file.
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(data, indent=2))
    temporary.replace(path)


def _missing() -> str | None:
    if shutil.which("node") is None:
        return "needs Node.js (`node` on PATH) for the OpenID provider in tests/idp"
    if not (IDP_DIR / "node_modules" / "oidc-provider").is_dir():
        return "needs tests/idp/node_modules: run `make install` (npm ci --prefix tests/idp)"
    return None


def _drain(process: subprocess.Popen[str], output: list[str], ready: threading.Event) -> None:
    """Keeps the pipe empty for the whole run; sets `ready` on the READY line."""
    assert process.stdout is not None
    for line in process.stdout:
        output.append(line)
        if line.startswith("READY "):
            ready.set()
    ready.set()  # the process ended: wake the waiter, which then sees no READY line


def _launch(
    accounts_path: Path,
    client_id: str,
    client_secret: str,
    redirect_uris: list[str],
    post_logout_redirect_uris: list[str],
    logout_prompt: bool,
) -> OidcProvider:
    env = {
        **os.environ,
        "IDP_PORT": "0",  # the kernel picks a free port; the READY line names it
        "IDP_ACCOUNTS": str(accounts_path),
        "IDP_CLIENT_ID": client_id,
        "IDP_CLIENT_SECRET": client_secret,
        "IDP_REDIRECT_URIS": ",".join(redirect_uris),
        "IDP_POST_LOGOUT_REDIRECT_URIS": ",".join(post_logout_redirect_uris),
        "IDP_LOGOUT_PROMPT": "1" if logout_prompt else "0",
    }
    process = subprocess.Popen(  # noqa: S603
        [shutil.which("node") or "node", str(IDP_DIR / "provider.mjs")],
        cwd=IDP_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    ready = threading.Event()
    threading.Thread(target=_drain, args=(process, output, ready), daemon=True).start()
    started = ready.wait(READY_TIMEOUT)
    issuer = next((line.split()[1] for line in output if line.startswith("READY ")), None)
    provider = OidcProvider(
        issuer=issuer or "",
        client_id=client_id,
        client_secret=client_secret,
        accounts_path=accounts_path,
        redirect_uris=redirect_uris,
        post_logout_redirect_uris=post_logout_redirect_uris,
        process=process,
        output=output,
    )
    if issuer is None:
        provider.stop()
        why = "did not start" if started else f"was not READY within {READY_TIMEOUT:.0f}s"
        pytest.fail(f"the OpenID provider {why}; its output:\n{''.join(output)}")
    return provider


@pytest.fixture
def start_oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable]:
    """`start_oidc_provider(redirect_base=None, *, redirect_uris=None,
    post_logout_redirect_uris=None, accounts=None, client_id="portal",
    client_secret="portal-secret", logout_prompt=True) -> OidcProvider`."""
    missing = _missing()
    if missing is not None:
        if "idp" in REQUIRED or os.environ.get("CI") == "true":
            # In CI the provider is required: a missing one fails, never skips.
            pytest.fail(f"{missing} (required here: CI or PORTAL_REQUIRE names idp)")
        pytest.skip(missing)
    started: list[OidcProvider] = []

    def start(
        redirect_base: str | None = None,
        *,
        redirect_uris: list[str] | None = None,
        post_logout_redirect_uris: list[str] | None = None,
        accounts: dict[str, dict] | None = None,
        client_id: str = "portal",
        client_secret: str = "portal-secret",  # noqa: S107
        logout_prompt: bool = True,
    ) -> OidcProvider:
        base = (redirect_base or "").rstrip("/")
        if redirect_uris is None:
            redirect_uris = [f"{base}/oidc/callback/" if base else "http://127.0.0.1:9/cb"]
        if post_logout_redirect_uris is None:
            post_logout_redirect_uris = [f"{base}/" if base else "http://127.0.0.1:9/"]
        accounts_path = tmp_path_factory.mktemp("idp") / "accounts.json"
        _write_json(accounts_path, DEFAULT_ACCOUNTS if accounts is None else accounts)
        provider = _launch(
            accounts_path,
            client_id,
            client_secret,
            redirect_uris,
            post_logout_redirect_uris,
            logout_prompt,
        )
        started.append(provider)
        return provider

    yield start
    for provider in started:
        provider.stop()


@pytest.fixture
def oidc_provider(start_oidc_provider: Callable[..., OidcProvider]) -> OidcProvider:
    return start_oidc_provider()
