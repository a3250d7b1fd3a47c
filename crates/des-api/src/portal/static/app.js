// The admin portal: sign-in, the organization, then profiles (list, detail, wizard). Screens
// are plain functions that fill <main>; the hash names the screen (#/, #/profiles/<id>,
// #/new, #/profiles/<id>/edit, #/organizations).

import { h, show, alertBox } from './dom.js';
import * as auth from './auth.js';
import { makeApi, ApiError } from './api.js';
import { profileList, profileDetail } from './profiles.js';
import { wizard } from './wizard.js';

const ORG = 'des.organization';
const ctx = { config: null, session: null, api: null, orgs: [], org: null, stop: null, ended: false };

function stopLive() {
  if (ctx.stop) ctx.stop();
  ctx.stop = null;
}

function welcome(problem) {
  stopLive();
  show(
    h('h1', {}, 'Sign in to the Data Export Service'),
    problem ? alertBox(problem) : null,
    h('p', {}, 'Export Dataverse tables to your own database, watch each profile replicate, and act on it. Sign in with your work account; you need the System Administrator role in the organization.'),
    h('button', { class: 'primary', 'data-action': 'sign-in', onclick: () => auth.signIn(ctx.config, location.hash || '#/') }, 'Sign in'),
  );
}

/// The session ended: the tokens are dropped and nothing else is shown until a new sign-in.
function sessionExpired() {
  if (ctx.ended) return;
  ctx.ended = true;
  stopLive();
  auth.forget();
  document.getElementById('account').replaceChildren();
  show(
    h('h1', {}, 'Your session has expired'),
    h('p', {}, 'You were signed out because your sign-in is no longer valid. Sign in again to go on where you were.'),
    h('button', { class: 'primary', 'data-action': 'sign-in-again', onclick: () => auth.signIn(ctx.config, location.hash || '#/') }, 'Sign in again'),
  );
}

function refusal() {
  stopLive();
  show(
    h('h1', {}, 'You are not a System Administrator'),
    h('p', {}, `You are signed in as ${ctx.session.name} (${ctx.session.username}), but this account is not a System Administrator of any organization this service exports. Only System Administrators can see and change export profiles.`),
    h('p', {}, 'Ask an administrator of your Dataverse organization for the System Administrator role, or sign in with another account.'),
    h('div', { class: 'actions' },
      h('button', { class: 'primary', 'data-action': 'switch-account', onclick: () => auth.signIn(ctx.config, '#/', 'select_account') }, 'Sign in with another account'),
      h('button', { 'data-action': 'sign-out', onclick: () => auth.signOut(ctx.config) }, 'Sign out')),
  );
}

function notConfigured() {
  show(
    h('h1', {}, 'The portal is not configured'),
    h('p', {}, 'This service has no Entra ID app registration for the portal. Set the portal client id (DES_PORTAL_CLIENT_ID in the API app, --portal-client-id for des run) and open this page again.'),
  );
}

function accountBar() {
  const nav = document.getElementById('account');
  const orgButton = ctx.orgs.length > 1
    ? h('a', { href: '#/organizations' }, 'Change organization')
    : null;
  const parts = [
    h('span', { class: 'who' }, ctx.org ? `${ctx.org.OrganizationName || ctx.org.OrganizationUrl} · ` : '', ctx.session.name),
    orgButton,
    h('button', { class: 'link', 'data-action': 'sign-out', onclick: () => auth.signOut(ctx.config) }, 'Sign out'),
  ];
  nav.replaceChildren(...parts.filter(Boolean));
}

function organizations() {
  stopLive();
  show(
    h('h1', {}, 'Choose an organization'),
    h('ul', { class: 'choices' }, ctx.orgs.map((org) => h('li', {},
      h('button', { onclick: () => chooseOrg(org), 'data-org': org.OrganizationId },
        h('strong', {}, org.OrganizationName || org.OrganizationUrl), h('br'), h('span', {}, org.OrganizationUrl))))),
  );
}

function chooseOrg(org) {
  ctx.org = org;
  sessionStorage.setItem(ORG, org.OrganizationId);
  accountBar();
  location.hash = '#/';
  route();
}

/// What went wrong in a screen: an expired session and a refused caller have their own pages.
function failed(error) {
  if (ctx.ended) return;
  if (error instanceof ApiError && error.status === 403) {
    refusal();
    return;
  }
  stopLive();
  show(h('h1', {}, 'Something went wrong'), alertBox(error.message),
    h('button', { onclick: () => route() }, 'Try again'));
}

async function route() {
  if (ctx.ended) return;
  stopLive();
  const hash = location.hash || '#/';
  const parts = hash.slice(2).split('/');
  const screen = { ...ctx, failed, setStop: (stop) => { ctx.stop = stop; } };
  try {
    if (hash === '#/organizations' || !ctx.org) organizations();
    else if (parts[0] === 'new') await wizard(screen, null);
    else if (parts[0] === 'profiles' && parts[2] === 'edit') await wizard(screen, parts[1]);
    else if (parts[0] === 'profiles' && parts[1]) await profileDetail(screen, parts[1]);
    else if (parts[0] === 'page' && parts[1]) await profileList(screen, decodeURIComponent(parts[1]));
    else await profileList(screen);
  } catch (error) {
    failed(error);
  }
}

async function start() {
  try {
    ctx.config = await auth.loadConfig();
  } catch (error) {
    show(h('h1', {}, 'The portal could not start'), alertBox(error.message));
    return;
  }
  if (!ctx.config.clientId) return notConfigured();
  try {
    ctx.session = await auth.completeSignIn(ctx.config);
  } catch (error) {
    return welcome(error.message);
  }
  ctx.session = ctx.session || auth.currentSession();
  if (!ctx.session) return welcome();
  if (auth.expired(ctx.session)) return sessionExpired();
  ctx.api = makeApi(() => ctx.session, sessionExpired);
  setInterval(() => { if (auth.expired(ctx.session)) sessionExpired(); }, 1000);
  await signedIn();
}

async function signedIn() {
  try {
    ctx.orgs = await ctx.api.organizations();
  } catch (error) {
    return failed(error);
  }
  if (!ctx.orgs.length) {
    accountBar();
    return refusal();
  }
  const remembered = sessionStorage.getItem(ORG);
  ctx.org = ctx.orgs.find((o) => o.OrganizationId === remembered) || (ctx.orgs.length === 1 ? ctx.orgs[0] : null);
  accountBar();
  window.addEventListener('hashchange', route);
  await route();
}

start();
