// The profile list and one profile's screen, both live: figures refresh every few seconds
// in place (focus stays where it is), charts redraw.

import { h, show, announce, alertBox, when, seconds, count, times } from './dom.js';
import { chart, ratePerMinute } from './charts.js';
import { actionBar } from './actions.js';

const REFRESH_MS = 4000;

function live(screen, refresh) {
  let running = true;
  const tick = async () => {
    if (!running) return;
    try {
      await refresh();
    } catch (error) {
      running = false;
      screen.failed(error);
      return;
    }
    if (running) timer = setTimeout(tick, REFRESH_MS);
  };
  let timer = setTimeout(tick, REFRESH_MS);
  screen.setStop(() => { running = false; clearTimeout(timer); });
}

export function privacyTerms(screen, accepted, after) {
  if (accepted) return null;
  const accept = async () => {
    await screen.api.acceptTerms(screen.org);
    announce('Privacy terms accepted.');
    after();
  };
  return h('section', { class: 'terms', 'aria-labelledby': 'terms-title' },
    h('h2', { id: 'terms-title' }, 'Privacy terms'),
    h('p', {}, 'Data export copies your Dataverse data into a database you choose, which can be outside the compliance and geographic boundaries of your Dataverse environment. You are responsible for securing that database and for how its data is used.'),
    h('p', {}, 'A System Administrator must accept these terms for the organization before any profile can be activated.'),
    h('button', { class: 'primary', 'data-action': 'accept-terms', onclick: () => accept().catch(screen.failed) }, 'Accept the privacy terms'));
}

/// Sum of the entities' rates and the largest lag, per sample time.
function combined(monitor) {
  const rates = new Map();
  const lags = new Map();
  for (const entity of monitor?.Entities || []) {
    const history = entity.History;
    for (const [t, v] of ratePerMinute(history.At, history.RowsApplied)) rates.set(t, (rates.get(t) || 0) + v);
    history.At.forEach((t, i) => {
      const lag = history.LagSeconds[i];
      if (lag !== null) lags.set(t, Math.max(lags.get(t) || 0, lag));
    });
  }
  const sorted = (map) => [...map.entries()].sort((a, b) => a[0] - b[0]);
  return { rates: sorted(rates), lags: sorted(lags) };
}

function charts(monitor) {
  const { rates, lags } = combined(monitor);
  return h('div', { class: 'charts' },
    h('figure', {}, h('figcaption', {}, 'Rows applied per minute, last hour'),
      chart({ points: rates, label: 'Rows applied per minute', unit: '/min', format: (v) => Math.round(v).toLocaleString() })),
    h('figure', {}, h('figcaption', {}, 'Lag, last hour'),
      chart({ points: lags, label: 'Lag', unit: '', format: seconds })));
}

function totals(profile, monitor) {
  const entities = monitor?.Entities || [];
  const sum = (pick) => entities.reduce((n, e) => n + (pick(e) || 0), 0);
  const lags = entities.map((e) => e.LagSeconds).filter((l) => l !== null && l !== undefined);
  const lag = lags.length ? seconds(Math.max(...lags)) : '—';
  return `${profile.Entities.length} entities · ${count(sum((e) => e.RowsApplied))} rows exported · ${count(sum((e) => e.Failures))} failures · lag ${lag}`;
}

function stateBadge(state) {
  return h('span', { class: `badge state-${state}` }, state);
}

async function monitors(screen, profiles) {
  const pairs = await Promise.all(profiles.map(async (p) => [p.Id, await screen.api.monitor(p.Id)]));
  return new Map(pairs);
}

/// Links to the first and the next page; the browser's Back goes to the page before.
function pager(token, next) {
  if (!token && !next) return null;
  return h('nav', { class: 'pager', 'aria-label': 'Profile pages' },
    token ? h('a', { class: 'button', href: '#/', 'data-action': 'first-page' }, 'First page') : null,
    next ? h('a', { class: 'button', href: `#/page/${encodeURIComponent(next)}`, 'data-action': 'next-page' }, 'Next profiles') : null);
}

/// The profile list, one page at a time (`token`: the page after the first, from the API).
export async function profileList(screen, token = null) {
  const [page, accepted] = await Promise.all([screen.api.profiles(screen.org, token), screen.api.termsAccepted(screen.org)]);
  const { profiles, next } = page;
  let figures = await monitors(screen, profiles);
  const cards = new Map();
  const card = (profile) => {
    const summary = h('p', { class: 'summary' }, totals(profile, figures.get(profile.Id)));
    const badge = h('span', {}, stateBadge(profile.State));
    const drawn = h('div', {}, charts(figures.get(profile.Id)));
    cards.set(profile.Id, { summary, badge, drawn });
    return h('li', { class: 'card', 'data-profile': profile.Id },
      h('h2', {}, h('a', { href: `#/profiles/${profile.Id}` }, profile.Name)), badge, summary, drawn);
  };
  show(
    h('h1', {}, 'Export profiles'),
    privacyTerms(screen, accepted, () => profileList(screen).catch(screen.failed)),
    h('p', {}, h('a', { class: 'button primary', href: '#/new', 'data-action': 'new-profile' }, 'New profile')),
    profiles.length
      ? h('ul', { class: 'cards', 'aria-label': 'Profiles' }, profiles.map(card))
      : h('p', {}, 'No profiles yet. Create one to start exporting.'),
    pager(token, next),
  );
  live(screen, async () => {
    const { profiles: fresh } = await screen.api.profiles(screen.org, token);
    figures = await monitors(screen, fresh);
    for (const profile of fresh) {
      const parts = cards.get(profile.Id);
      if (!parts) continue;
      parts.summary.textContent = totals(profile, figures.get(profile.Id));
      parts.badge.replaceChildren(stateBadge(profile.State));
      parts.drawn.replaceChildren(charts(figures.get(profile.Id)));
    }
  });
}

const COLUMNS = ['Entity', 'Initial sync', 'Rows exported', 'Failures', 'Pending batches', 'Lag', 'Last sync', 'Waits for the operator', 'Actions'];

function entityCells(entity, status) {
  return [
    status?.InitialSyncState || '—',
    count(entity.RowsApplied),
    count(entity.Failures),
    count(entity.PendingBatches),
    seconds(entity.LagSeconds),
    when(entity.LastSync),
    // What to fix while a target or configuration fault holds the stream (x-monitor's Hint).
    entity.Hint || '—',
  ];
}

function entityTable(screen, profile, monitor) {
  const rows = new Map();
  const statusOf = (p, type) => p.Entities.find((e) => e.Type === type)?.Status;
  const body = h('tbody', {}, monitor.Entities.map((entity) => {
    const cells = entityCells(entity, statusOf(profile, entity.Type)).map((text) => h('td', {}, text));
    rows.set(entity.Type, cells);
    const resync = h('button', {
      'data-action': 'resync', 'data-entity': entity.Type,
      onclick: () => screen.act(`Resync of ${entity.Type} started.`, () => screen.api.resync(profile.Id, entity.Type)),
    }, 'Resync', h('span', { class: 'visually-hidden' }, ` ${entity.Type}`));
    return h('tr', { 'data-entity': entity.Type }, h('th', { scope: 'row' }, entity.Type), cells, h('td', {}, resync));
  }));
  const table = h('table', {},
    h('caption', {}, 'Entities (refreshes every few seconds)'),
    h('thead', {}, h('tr', {}, COLUMNS.map((c) => h('th', { scope: 'col' }, c)))), body);
  const update = (p, m) => {
    for (const entity of m.Entities) {
      const cells = rows.get(entity.Type);
      if (!cells) continue;
      entityCells(entity, statusOf(p, entity.Type)).forEach((text, i) => { cells[i].textContent = text; });
    }
  };
  return { element: h('div', { class: 'scroll', role: 'region', 'aria-label': 'Entities table', tabindex: 0 }, table), update };
}

function settings(profile) {
  const retry = profile.RetryPolicy;
  const items = [
    ['Target', `${profile.DestinationType}, secret ${profile.DestinationKeyVaultUri}`],
    ['Schema and prefix', `${profile.DestinationSchemaName}, prefix “${profile.DestinationPrefix}”`],
    ['Retries', `${times(retry.MaxRetryCount)}, every ${retry.IntervalInSeconds} s`],
    ['Delete log', profile.WriteDeleteLog ? 'written' : 'not written'],
    ['Relationships', (profile.Relationships || []).map((r) => r.SchemaName).join(', ') || 'none'],
  ];
  return h('dl', { class: 'settings' }, items.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

export async function profileDetail(screen, id) {
  const [profile, monitor, accepted] = await Promise.all([
    screen.api.profile(id), screen.api.monitor(id), screen.api.termsAccepted(screen.org)]);
  const badge = h('span', {}, stateBadge(profile.State));
  const drawn = h('div', {}, charts(monitor));
  const outcome = h('div', { class: 'outcome' });
  const detail = { ...screen, outcome, act: null };
  detail.act = async (message, action) => {
    outcome.replaceChildren();
    try {
      await action();
      announce(message);
      outcome.replaceChildren(h('p', { class: 'done' }, message));
    } catch (error) {
      if (error.status === 401 || error.status === 403) return screen.failed(error);
      outcome.replaceChildren(alertBox(error.message));
    }
  };
  const table = entityTable(detail, profile, monitor);
  show(
    h('p', {}, h('a', { href: '#/' }, '← All profiles')),
    h('h1', {}, profile.Name),
    h('p', {}, 'State: ', badge),
    privacyTerms(screen, accepted, () => profileDetail(screen, id).catch(screen.failed)),
    actionBar(detail, profile, accepted),
    outcome,
    h('h2', {}, 'Activity'),
    drawn,
    h('h2', {}, 'Entities'),
    table.element,
    h('h2', {}, 'Settings'),
    settings(profile),
  );
  live(screen, async () => {
    const [p, m] = await Promise.all([screen.api.profile(id), screen.api.monitor(id)]);
    badge.replaceChildren(stateBadge(p.State));
    table.update(p, m);
    drawn.replaceChildren(charts(m));
  });
}
