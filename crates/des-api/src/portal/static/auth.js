// Sign-in with Entra ID: the OAuth 2.0 authorization code flow with PKCE (RFC 7636, S256), as
// a single-page app does it. MSAL.js is not used: it refuses any authority that is not https
// (`authority_uri_insecure`), so it could not sign in against the local emulator `des run`
// starts, and the flow tested would not be the flow shipped. This file is that flow and no
// more: discovery, the redirect with state, nonce and code challenge, the code redemption,
// the id token's audience, issuer and nonce checked (it comes straight from the token
// endpoint over the authority's TLS, OpenID Connect Core 3.1.3.7), tokens kept in
// sessionStorage (this tab only) and dropped when they expire (no refresh tokens: a new
// sign-in is one click while the Entra session lasts).

const SESSION = 'des.session';
const PENDING = 'des.signin';

export class SignInError extends Error {}

export async function loadConfig() {
  const response = await fetch('/portal/config.json', { cache: 'no-store' });
  if (!response.ok) throw new SignInError(`The portal settings could not be read (${response.status}).`);
  return response.json();
}

const discovered = new Map();

async function discovery(authority) {
  if (!discovered.has(authority)) {
    const response = await fetch(`${authority}/.well-known/openid-configuration`);
    if (!response.ok) throw new SignInError(`The sign-in service did not answer (${response.status}).`);
    discovered.set(authority, await response.json());
  }
  return discovered.get(authority);
}

export function redirectUri() {
  return location.origin + location.pathname;
}

function base64url(bytes) {
  let text = '';
  for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function random(size) {
  return base64url(crypto.getRandomValues(new Uint8Array(size)));
}

async function challengeOf(verifier) {
  return base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
}

function scopes(config) {
  return `openid profile ${config.scope}`;
}

/// Goes to the authority's sign-in page; `returnTo` is the screen to come back to.
export async function signIn(config, returnTo, prompt) {
  const meta = await discovery(config.authority);
  const pending = { verifier: random(48), state: random(16), nonce: random(16), returnTo };
  sessionStorage.setItem(PENDING, JSON.stringify(pending));
  const url = new URL(meta.authorization_endpoint);
  const params = {
    client_id: config.clientId,
    response_type: 'code',
    response_mode: 'fragment',
    redirect_uri: redirectUri(),
    scope: scopes(config),
    state: pending.state,
    nonce: pending.nonce,
    code_challenge: await challengeOf(pending.verifier),
    code_challenge_method: 'S256',
  };
  if (prompt) params.prompt = prompt;
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  location.assign(url.href);
}

function claimsOf(jwt) {
  const part = (jwt || '').split('.')[1] || '';
  const binary = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

/// Finishes a sign-in when the page is the redirect's answer; null when it is not.
export async function completeSignIn(config) {
  const answer = new URLSearchParams(location.hash.slice(1));
  if (!answer.has('code') && !answer.has('error')) return null;
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || 'null');
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, '', location.pathname + (pending?.returnTo || '#/'));
  if (answer.has('error')) throw new SignInError(answer.get('error_description') || answer.get('error'));
  if (!pending || answer.get('state') !== pending.state) {
    throw new SignInError('The sign-in answer does not belong to this page (state differs). Sign in again.');
  }
  const meta = await discovery(config.authority);
  const body = new URLSearchParams({
    client_id: config.clientId,
    grant_type: 'authorization_code',
    code: answer.get('code'),
    redirect_uri: redirectUri(),
    code_verifier: pending.verifier,
    scope: scopes(config),
  });
  const response = await fetch(meta.token_endpoint, { method: 'POST', body });
  const tokens = await response.json();
  if (!response.ok) throw new SignInError(tokens.error_description || 'The sign-in failed.');
  return keep(tokens, meta, config, pending);
}

function keep(tokens, meta, config, pending) {
  const id = claimsOf(tokens.id_token);
  if (id.aud !== config.clientId || id.iss !== meta.issuer || id.nonce !== pending.nonce) {
    throw new SignInError('The sign-in answer is not for this page (id token audience, issuer or nonce). Sign in again.');
  }
  const session = {
    accessToken: tokens.access_token,
    expiresAt: Date.now() + Number(tokens.expires_in) * 1000,
    name: id.name || id.preferred_username,
    username: id.preferred_username,
  };
  sessionStorage.setItem(SESSION, JSON.stringify(session));
  return session;
}

export function currentSession() {
  return JSON.parse(sessionStorage.getItem(SESSION) || 'null');
}

export function expired(session) {
  return !session || Date.now() >= session.expiresAt;
}

export function forget() {
  sessionStorage.removeItem(SESSION);
}

/// Drops the tokens and ends the authority's session, which comes back to this page.
export async function signOut(config) {
  forget();
  const meta = await discovery(config.authority);
  if (!meta.end_session_endpoint) {
    location.assign(redirectUri());
    return;
  }
  const url = new URL(meta.end_session_endpoint);
  url.searchParams.set('client_id', config.clientId);
  url.searchParams.set('post_logout_redirect_uri', redirectUri());
  location.assign(url.href);
}
