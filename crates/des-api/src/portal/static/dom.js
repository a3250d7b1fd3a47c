// Small DOM helpers: elements are built with text nodes only (never HTML from data), and
// announcements go to one polite live region.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/// Replaces the main region and moves focus to its first heading, so a screen reader
/// announces the new screen and keyboard users start from its top.
export function show(...children) {
  const main = document.getElementById('main');
  main.replaceChildren();
  append(main, children);
  const heading = main.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
}

export function announce(text) {
  const live = document.getElementById('live');
  live.textContent = '';
  // A fresh text node after a tick is read even when the text repeats.
  setTimeout(() => { live.textContent = text; }, 50);
}

export function when(date) {
  if (!date) return 'never';
  const at = new Date(date);
  return at.toLocaleString();
}

export function seconds(value) {
  if (value === null || value === undefined) return '—';
  if (value < 1) return '< 1 s';
  if (value < 120) return `${Math.round(value)} s`;
  if (value < 7200) return `${Math.round(value / 60)} min`;
  return `${(value / 3600).toFixed(1)} h`;
}

export function count(value) {
  return Number(value || 0).toLocaleString();
}

export function alertBox(text) {
  return h('p', { class: 'alert', role: 'alert' }, text);
}

export function times(n) {
  return `${n} ${Number(n) === 1 ? 'time' : 'times'}`;
}
