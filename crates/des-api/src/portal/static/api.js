// The DES API, called like any client with the signed-in person's token.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/// Profiles per page of the list: a page's figures refresh every few seconds, one call each.
export const PAGE_SIZE = 20;

/// The `x-skiptoken` of a `Link: <...>; rel="next"` header, the API's paging extension.
function nextToken(link) {
  const next = /<([^>]*)>\s*;\s*rel="next"/.exec(link || '');
  return next ? new URL(next[1], location.origin).searchParams.get('x-skiptoken') : null;
}

export function makeApi(session, onUnauthorized) {
  async function send(method, path, { query, body } = {}) {
    const url = new URL(path, location.origin);
    for (const [name, value] of Object.entries(query || {})) {
      if (value !== undefined && value !== null) url.searchParams.set(name, value);
    }
    const headers = { Authorization: `Bearer ${session().accessToken}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401) {
      onUnauthorized();
      throw new ApiError(401, 'Your session has expired.');
    }
    const text = await response.text();
    const json = text ? JSON.parse(text) : null;
    if (!response.ok) {
      throw new ApiError(response.status, json?.Message || `The API answered ${response.status}.`);
    }
    return { json, next: nextToken(response.headers.get('Link')) };
  }
  const call = async (...args) => (await send(...args)).json;
  const base = '/crm/exporter';
  const org = (o) => ({ organizationId: o.OrganizationId });
  return {
    organizations: () => call('GET', `${base}/metadata/organizations`),
    termsAccepted: (o) => call('GET', `${base}/metadata/hasorgacceptedprivacyterms`, { query: org(o) }),
    acceptTerms: (o) => call('POST', `${base}/metadata/acceptprivacyterms`, { query: org(o) }),
    entities: (o) => call('GET', `${base}/metadata/entities`, { query: org(o) }),
    relationships: (o) => call('GET', `${base}/metadata/relationships`, { query: org(o) }),
    // One page of profiles with their status, and the token of the next page (or null).
    profiles: async (o, token) => {
      const query = { ...org(o), status: 'true', 'x-top': PAGE_SIZE, 'x-skiptoken': token };
      const { json, next } = await send('GET', `${base}/profiles`, { query });
      return { profiles: json, next };
    },
    profile: (id) => call('GET', `${base}/profiles/${id}`, { query: { status: 'true' } }),
    monitor: (id) => call('GET', `${base}/profiles/${id}/x-monitor`),
    create: (o, body) => call('POST', `${base}/profiles`, { query: org(o), body }),
    update: (id, body) => call('PUT', `${base}/profiles/${id}`, { body }),
    validate: (o, body) => call('POST', `${base}/profiles/validate`, { query: org(o), body }),
    test: (id) => call('GET', `${base}/profiles/${id}/test`),
    activate: (id, route) => call('POST', `${base}/profiles/${id}/${route}`),
    deactivate: (id) => call('POST', `${base}/profiles/${id}/deactivate`),
    resync: (id, entity) => call('POST', `${base}/profiles/${id}/x-resync`, { query: { entity } }),
    resyncFailed: (id) => call('POST', `${base}/profiles/${id}/x-resyncfailed`),
    remove: (id) => call('DELETE', `${base}/profiles/${id}`),
    failures: (id) => call('GET', `${base}/profiles/${id}/failures`),
  };
}
