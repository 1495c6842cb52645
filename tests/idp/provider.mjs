// A real OpenID provider (the `oidc-provider` package) for the portal's OIDC tests.
//
//   IDP_ACCOUNTS=accounts.json node tests/idp/provider.mjs [port]
//
// Environment: IDP_PORT (or argv[2]; 0 picks a free port), IDP_ACCOUNTS (JSON file, required,
// re-read on every lookup), IDP_CLIENT_ID / IDP_CLIENT_SECRET (default portal / portal-secret),
// IDP_REDIRECT_URIS and IDP_POST_LOGOUT_REDIRECT_URIS (comma-separated), IDP_LOGOUT_PROMPT
// ("0" signs out without the confirmation page). Prints `READY <issuer>` once listening.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const env = process.env;
const list = (value, fallback) => (value ?? fallback).split(',').map((s) => s.trim()).filter(Boolean);
const port = Number(process.argv[2] ?? env.IDP_PORT ?? 0);
const accountsPath = env.IDP_ACCOUNTS;
if (!accountsPath) {
  console.error('IDP_ACCOUNTS must name the accounts JSON file');
  process.exit(2);
}

// Read on every lookup so a test can change a user's groups between two sign-ins.
const readAccounts = () => JSON.parse(readFileSync(accountsPath, 'utf8'));

function accountByLogin(login) {
  const accounts = readAccounts();
  if (accounts[login]) return [login, accounts[login]];
  return Object.entries(accounts).find(([, a]) => a.preferred_username === login) ?? [];
}

async function findAccount(ctx, sub) {
  const account = readAccounts()[sub];
  if (!account) return undefined;
  return {
    accountId: sub,
    async claims() {
      return {
        sub,
        email: account.email,
        email_verified: true,
        preferred_username: account.preferred_username,
        name: account.name,
        groups: account.groups ?? [],
      };
    },
  };
}

const escape = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title, body) {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>`
    + `</head><body><main><h1>${escape(title)}</h1>${body}</main></body></html>`;
}

function loginForm(uid, { login = '', error = '' } = {}) {
  const message = error ? `<p id="login-error" role="alert">${escape(error)}</p>` : '';
  return page('Sign in to the test identity provider', `${message}
    <form id="login-form" method="post" action="/interaction/${escape(uid)}/login">
      <label for="login">Login</label>
      <input id="login" name="login" autocomplete="username" value="${escape(login)}" required>
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required>
      <button id="sign-in" type="submit">Sign in</button>
    </form>`);
}

function logoutSource(ctx, form) {
  const auto = env.IDP_LOGOUT_PROMPT === '0'
    ? '<script>document.getElementById("logout-confirm").click()</script>' : '';
  ctx.body = page('Sign out of the test identity provider', `${form}
    <button id="logout-confirm" type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>
    <button id="logout-cancel" type="submit" form="op.logoutForm">No, stay signed in</button>${auto}`);
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

// The client is first-party: consent is given without asking.
async function grantConsent(provider, { prompt: { details }, params, session, grantId }) {
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  return { consent: { grantId: await grant.save() } };
}

async function interactions(ctx, next) {
  const match = ctx.path.match(/^\/interaction\/([\w-]+)(\/login)?$/);
  if (!match) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  let result;
  if (match[2] && ctx.method === 'POST') {
    const form = await readForm(ctx.req);
    const [sub, account] = accountByLogin(form.get('login') ?? '');
    if (!account || account.password !== form.get('password')) {
      ctx.status = 200;
      ctx.type = 'html';
      ctx.body = loginForm(details.uid, { login: form.get('login'), error: 'Wrong login or password.' });
      return undefined;
    }
    result = { login: { accountId: sub } };
  } else if (details.prompt.name === 'consent') {
    result = await grantConsent(provider, details);
  } else {
    ctx.type = 'html';
    ctx.body = loginForm(details.uid);
    return undefined;
  }
  const location = await provider.interactionResult(ctx.req, ctx.res, result, {
    mergeWithLastSubmission: false,
  });
  ctx.redirect(location);
  ctx.status = 303;
  return undefined;
}

let provider;
const server = createServer();
server.listen(port, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  provider = new Provider(issuer, {
    clients: [{
      client_id: env.IDP_CLIENT_ID || 'portal',
      client_secret: env.IDP_CLIENT_SECRET || 'portal-secret',
      redirect_uris: list(env.IDP_REDIRECT_URIS, 'http://127.0.0.1:9/cb'),
      post_logout_redirect_uris: list(env.IDP_POST_LOGOUT_REDIRECT_URIS, 'http://127.0.0.1:9/'),
      grant_types: ['authorization_code'],
      response_types: ['code'],
      // oidc-provider accepts client_secret_basic for a client_secret_post client and vice
      // versa; mozilla-django-oidc posts the secret in the body unless OIDC_TOKEN_USE_BASIC_AUTH.
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: 'RS256',
    }],
    jwks: { keys: [{ ...jwk, kid: randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig' }] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    findAccount,
    scopes: ['openid', 'email', 'profile', 'groups'],
    claims: {
      acr: null,
      sid: null,
      auth_time: null,
      iss: null,
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['preferred_username', 'name'],
      groups: ['groups'],
    },
    conformIdTokenClaims: false, // the granted claims go in the ID token as well as userinfo
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: { enabled: true, logoutSource },
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page('Identity provider error', `<pre id="idp-error">${escape(JSON.stringify(out))}</pre>`);
    },
  });
  provider.use(interactions);
  server.on('request', provider.callback());
  console.log(`READY ${issuer}`);
});

// Nothing to keep: the state is in memory and the keys die with the process.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
