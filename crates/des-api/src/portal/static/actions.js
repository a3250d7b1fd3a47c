// A profile's actions: activate (all, metadata only, data only), deactivate, test, edit,
// resync failed records, the failure log (its 24-hour link) and delete (confirmed first).

import { h, announce, alertBox, when } from './dom.js';

export function checks(report) {
  return h('ul', { class: 'checks', 'aria-label': 'Checks' }, report.Checks.map((check) =>
    h('li', { class: check.Passed ? 'pass' : 'fail', 'data-check': check.Name },
      h('strong', {}, `${check.Passed ? '✓ Passed' : '✗ Failed'}: ${check.Name}`), ' — ', check.Message)));
}

function failureLog(screen, profile) {
  return async () => {
    screen.outcome.replaceChildren();
    try {
      const link = await screen.api.failures(profile.Id);
      screen.outcome.replaceChildren(h('p', {},
        h('a', { href: link.Url, target: '_blank', rel: 'noopener', 'data-action': 'open-failure-log' }, 'Open the failure log'),
        ` (the link works until ${when(link.ExpiresOn)})`));
      announce('The failure log link is ready.');
    } catch (error) {
      screen.outcome.replaceChildren(alertBox(error.message));
    }
  };
}

function test(screen, profile) {
  return async () => {
    screen.outcome.replaceChildren(h('p', {}, 'Testing…'));
    try {
      const report = await screen.api.test(profile.Id);
      const verdict = report.Succeeded ? 'Every check passed.' : 'Some checks failed.';
      screen.outcome.replaceChildren(h('h3', {}, `Test: ${verdict}`), checks(report));
      announce(`Test finished. ${verdict}`);
    } catch (error) {
      screen.outcome.replaceChildren(alertBox(error.message));
    }
  };
}

function confirmDelete(screen, profile) {
  const dialog = h('dialog', { 'aria-labelledby': 'delete-title', class: 'confirm' });
  const close = () => { dialog.close(); dialog.remove(); };
  const remove = async () => {
    close();
    await screen.act(`Profile ${profile.Name} deleted.`, () => screen.api.remove(profile.Id));
    location.hash = '#/';
  };
  dialog.append(
    h('h2', { id: 'delete-title' }, `Delete ${profile.Name}?`),
    h('p', {}, 'The profile stops and is removed. The tables in the target database stay as they are.'),
    h('div', { class: 'actions' },
      h('button', { class: 'danger', 'data-action': 'confirm-delete', onclick: () => remove() }, 'Delete'),
      h('button', { 'data-action': 'cancel-delete', onclick: close, autofocus: true }, 'Cancel')));
  dialog.addEventListener('cancel', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}

export function actionBar(screen, profile, accepted) {
  const activate = (route, label) => h('button', {
    'data-action': route, disabled: !accepted,
    onclick: () => screen.act(`Profile ${profile.Name}: ${label.toLowerCase()} requested.`, () => screen.api.activate(profile.Id, route)),
  }, label);
  return h('div', { class: 'toolbar', role: 'group', 'aria-label': 'Profile actions' },
    activate('activate', 'Activate'),
    activate('activatemetadata', 'Activate metadata only'),
    activate('activatedata', 'Activate data only'),
    h('button', { 'data-action': 'deactivate', onclick: () => screen.act(`Profile ${profile.Name} deactivated.`, () => screen.api.deactivate(profile.Id)) }, 'Deactivate'),
    h('button', { 'data-action': 'test', onclick: test(screen, profile) }, 'Test'),
    h('a', { class: 'button', href: `#/profiles/${profile.Id}/edit`, 'data-action': 'edit' }, 'Edit'),
    h('button', {
      'data-action': 'resync-failed',
      onclick: () => screen.act('Resync of failed records started.', () => screen.api.resyncFailed(profile.Id)),
    }, 'Resync failed records'),
    h('button', { 'data-action': 'failure-log', onclick: failureLog(screen, profile) }, 'Failure log'),
    h('button', { class: 'danger', 'data-action': 'delete', onclick: () => confirmDelete(screen, profile) }, 'Delete'),
    accepted ? null : h('p', { class: 'hint' }, 'Activation needs the privacy terms accepted first.'));
}
