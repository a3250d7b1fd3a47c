// The create and edit wizard, like DES's: name, entities (searchable, from the organization's
// change-tracked entities) and relationships, target, retries and delete log, then a review
// step that runs `validate` and shows its checks; saving needs a passing validation.

import { h, show, announce, alertBox, times } from './dom.js';
import { checks } from './actions.js';

const STEPS = ['Name', 'Entities', 'Target', 'Settings', 'Review'];
const TARGETS = [['sqlazure', 'SQL Server or Azure SQL'], ['postgresql', 'PostgreSQL'], ['sqlite', 'SQLite']];

function field(label, input, help) {
  const id = input.id;
  const hint = help ? h('p', { class: 'hint', id: `${id}-help` }, help) : null;
  if (hint) input.setAttribute('aria-describedby', `${id}-help`);
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hint);
}

function draftOf(profile) {
  return {
    Name: profile?.Name || '',
    Entities: new Set((profile?.Entities || []).map((e) => e.Type)),
    Relationships: new Set((profile?.Relationships || []).map((r) => r.SchemaName)),
    DestinationType: profile?.DestinationType || 'sqlazure',
    DestinationKeyVaultUri: profile?.DestinationKeyVaultUri || '',
    DestinationSchemaName: profile?.DestinationSchemaName || 'dbo',
    DestinationPrefix: profile?.DestinationPrefix || '',
    MaxRetryCount: profile?.RetryPolicy?.MaxRetryCount ?? 12,
    IntervalInSeconds: profile?.RetryPolicy?.IntervalInSeconds ?? 5,
    WriteDeleteLog: profile?.WriteDeleteLog ?? false,
  };
}

function bodyOf(draft, org) {
  return {
    Name: draft.Name.trim(),
    OrganizationId: org.OrganizationId,
    Entities: [...draft.Entities].map((Type) => ({ Type })),
    Relationships: [...draft.Relationships].map((SchemaName) => ({ SchemaName })),
    DestinationType: draft.DestinationType,
    DestinationKeyVaultUri: draft.DestinationKeyVaultUri.trim(),
    DestinationSchemaName: draft.DestinationSchemaName.trim(),
    DestinationPrefix: draft.DestinationPrefix.trim(),
    RetryPolicy: { MaxRetryCount: Number(draft.MaxRetryCount), IntervalInSeconds: Number(draft.IntervalInSeconds) },
    WriteDeleteLog: draft.WriteDeleteLog,
  };
}

function input(draft, key, attrs = {}) {
  const el = h('input', { id: `f-${key}`, name: key, value: draft[key], ...attrs });
  el.addEventListener('input', () => { draft[key] = attrs.type === 'number' ? el.valueAsNumber : el.value; });
  return el;
}

function nameStep(draft) {
  return [field('Profile name', input(draft, 'Name', { required: true, maxlength: 100, autocomplete: 'off' }), 'Unique in the organization, up to 100 characters.')];
}

function entitiesStep(draft, entities, relationships) {
  const list = h('ul', { class: 'pick', id: 'entity-list' });
  const counter = h('p', { class: 'hint', 'aria-live': 'polite' });
  const relList = h('ul', { class: 'pick' });
  const render = (filter) => {
    const wanted = filter.trim().toLowerCase();
    list.replaceChildren(...entities
      .filter((e) => !wanted || e.LogicalName.includes(wanted) || (e.DisplayName || '').toLowerCase().includes(wanted))
      .map((e) => {
        const box = h('input', { type: 'checkbox', id: `e-${e.LogicalName}`, value: e.LogicalName, checked: draft.Entities.has(e.LogicalName) });
        box.addEventListener('change', () => { box.checked ? draft.Entities.add(e.LogicalName) : draft.Entities.delete(e.LogicalName); renderRels(); count(); });
        return h('li', {}, box, h('label', { for: box.id }, `${e.DisplayName || e.LogicalName} `, h('code', {}, e.LogicalName)));
      }));
  };
  const renderRels = () => relList.replaceChildren(...relationships.map((r) => {
    const usable = draft.Entities.has(r.Entity1LogicalName) && draft.Entities.has(r.Entity2LogicalName);
    if (!usable) draft.Relationships.delete(r.SchemaName);
    const box = h('input', { type: 'checkbox', id: `r-${r.SchemaName}`, checked: draft.Relationships.has(r.SchemaName), disabled: !usable });
    box.addEventListener('change', () => { box.checked ? draft.Relationships.add(r.SchemaName) : draft.Relationships.delete(r.SchemaName); });
    return h('li', {}, box, h('label', { for: box.id }, h('code', {}, r.SchemaName), ` (${r.Entity1LogicalName} and ${r.Entity2LogicalName}${usable ? '' : ': select both entities first'})`));
  }));
  const count = () => { counter.textContent = `${draft.Entities.size} selected.`; };
  const search = h('input', { id: 'entity-search', type: 'search', autocomplete: 'off' });
  search.addEventListener('input', () => render(search.value));
  render('');
  renderRels();
  count();
  return [
    field('Search entities', search, 'Only change-tracked entities can be exported.'),
    h('fieldset', {}, h('legend', {}, 'Entities to export'), counter, list),
    h('fieldset', {}, h('legend', {}, 'Many-to-many relationships'), relationships.length ? relList : h('p', {}, 'None available.')),
  ];
}

function targetStep(draft) {
  const select = h('select', { id: 'f-DestinationType' }, TARGETS.map(([value, label]) => h('option', { value, selected: draft.DestinationType === value }, label)));
  select.addEventListener('change', () => { draft.DestinationType = select.value; });
  return [
    field('Target type', select),
    field('Key Vault secret URI', input(draft, 'DestinationKeyVaultUri', { required: true, autocomplete: 'off' }),
      'The secret that holds the connection string: https://<vault>.vault.azure.net/secrets/<name>, or local:<name> for a local secret.'),
    field('Schema', input(draft, 'DestinationSchemaName', { autocomplete: 'off' })),
    field('Table prefix', input(draft, 'DestinationPrefix', { autocomplete: 'off' }), 'Optional; tables are named <prefix>_<entity>.'),
  ];
}

function settingsStep(draft) {
  const log = h('input', { type: 'checkbox', id: 'f-WriteDeleteLog', checked: draft.WriteDeleteLog });
  log.addEventListener('change', () => { draft.WriteDeleteLog = log.checked; });
  return [
    field('Retry count', input(draft, 'MaxRetryCount', { type: 'number', min: 0, max: 20 }), 'How often a record the target refuses is tried again (0 to 20).'),
    field('Retry interval (seconds)', input(draft, 'IntervalInSeconds', { type: 'number', min: 0, max: 3600 })),
    h('div', { class: 'field check' }, log, h('label', { for: 'f-WriteDeleteLog' }, 'Write a delete log (a DeleteLog table of deleted records)')),
  ];
}

function missing(step, draft) {
  if (step === 0 && !draft.Name.trim()) return 'Give the profile a name.';
  if (step === 1 && draft.Entities.size === 0) return 'Select at least one entity.';
  if (step === 2 && !draft.DestinationKeyVaultUri.trim()) return 'Enter the Key Vault secret URI of the target.';
  return null;
}

export async function wizard(screen, id) {
  const [existing, entities, relationships] = await Promise.all([
    id ? screen.api.profile(id) : null, screen.api.entities(screen.org), screen.api.relationships(screen.org)]);
  const draft = draftOf(existing);
  let step = 0;
  const render = (problem) => {
    const review = step === STEPS.length - 1;
    const content = [nameStep, () => entitiesStep(draft, entities, relationships), targetStep, settingsStep, () => reviewStep(screen, draft, existing)][step](draft);
    show(
      h('p', {}, h('a', { href: existing ? `#/profiles/${existing.Id}` : '#/' }, '← Cancel')),
      h('h1', {}, `${existing ? `Edit ${existing.Name}` : 'New profile'}: ${STEPS[step]}`),
      h('ol', { class: 'steps', 'aria-label': 'Steps' }, STEPS.map((name, i) => h('li', { 'aria-current': i === step ? 'step' : false }, name))),
      problem ? alertBox(problem) : null,
      h('form', { novalidate: true, onsubmit: (e) => { e.preventDefault(); next(); } },
        content,
        h('div', { class: 'actions' },
          step > 0 ? h('button', { type: 'button', 'data-action': 'back', onclick: () => { step -= 1; render(); } }, 'Back') : null,
          review ? null : h('button', { type: 'submit', class: 'primary', 'data-action': 'next' }, 'Next'))));
  };
  const next = () => {
    const problem = missing(step, draft);
    if (problem) return render(problem);
    step += 1;
    render();
  };
  render();
}

function reviewStep(screen, draft, existing) {
  const body = bodyOf(draft, screen.org);
  const result = h('div', { class: 'outcome', 'aria-live': 'polite' });
  let passed = false;
  const save = h('button', { type: 'button', class: 'primary', 'data-action': 'save', disabled: true }, existing ? 'Save changes' : 'Create profile');
  const validate = async () => {
    result.replaceChildren(h('p', {}, 'Validating…'));
    save.disabled = true;
    try {
      const report = await screen.api.validate(screen.org, body);
      passed = report.Succeeded;
      const verdict = passed ? 'Validation passed.' : 'Validation failed: fix the failed checks, then validate again.';
      result.replaceChildren(h('h2', {}, verdict), checks(report));
      save.disabled = !passed;
      announce(verdict);
    } catch (error) {
      if (error.status === 401 || error.status === 403) return screen.failed(error);
      result.replaceChildren(alertBox(error.message));
    }
  };
  save.addEventListener('click', async () => {
    if (!passed) return;
    try {
      const saved = existing ? await screen.api.update(existing.Id, body) : await screen.api.create(screen.org, body);
      announce(`Profile ${saved.Name} saved.`);
      location.hash = `#/profiles/${saved.Id}`;
    } catch (error) {
      if (error.status === 401 || error.status === 403) return screen.failed(error);
      result.replaceChildren(alertBox(error.message));
    }
  });
  setTimeout(validate, 0);
  return [
    h('dl', { class: 'settings' },
      h('dt', {}, 'Name'), h('dd', {}, body.Name),
      h('dt', {}, 'Entities'), h('dd', {}, body.Entities.map((e) => e.Type).join(', ')),
      h('dt', {}, 'Relationships'), h('dd', {}, body.Relationships.map((r) => r.SchemaName).join(', ') || 'none'),
      h('dt', {}, 'Target'), h('dd', {}, `${body.DestinationType}, secret ${body.DestinationKeyVaultUri}, schema ${body.DestinationSchemaName}, prefix “${body.DestinationPrefix}”`),
      h('dt', {}, 'Retries'), h('dd', {}, `${times(body.RetryPolicy.MaxRetryCount)}, every ${body.RetryPolicy.IntervalInSeconds} s`),
      h('dt', {}, 'Delete log'), h('dd', {}, body.WriteDeleteLog ? 'yes' : 'no')),
    h('div', { class: 'actions' }, h('button', { type: 'button', 'data-action': 'validate', onclick: validate }, 'Validate again'), save),
    result,
  ];
}
