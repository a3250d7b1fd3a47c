// Small SVG charts of the last hour. Each is an image with a text summary for screen readers
// (the numbers are also in the table beside it).

const NS = 'http://www.w3.org/2000/svg';
const WIDTH = 320;
const HEIGHT = 72;
const HOUR = 3600;
/// The x axis spans the samples there are, at least five minutes and at most the hour.
const SHORTEST = 300;

function svg(tag, attrs) {
  const el = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  return el;
}

/// Rows applied between consecutive samples, per minute, at each sample's time.
export function ratePerMinute(at, counter) {
  const points = [];
  for (let i = 1; i < at.length; i += 1) {
    const seconds = at[i] - at[i - 1];
    if (seconds <= 0) continue;
    const rows = Math.max(0, counter[i] - counter[i - 1]);
    points.push([at[i], (rows * 60) / seconds]);
  }
  return points;
}

/// `points` are [unixSeconds, value|null]; the x axis is the hour ending now.
export function chart({ points, label, unit, format }) {
  const now = Date.now() / 1000;
  const known = points.filter(([t, v]) => t >= now - HOUR && v !== null && v !== undefined);
  const span = Math.min(HOUR, Math.max(SHORTEST, now - (known[0]?.[0] ?? now)));
  const start = now - span;
  const shown = known.filter(([t]) => t >= start);
  const max = Math.max(1, ...shown.map(([, v]) => v));
  const x = (t) => ((t - start) / span) * WIDTH;
  const y = (v) => HEIGHT - 4 - (v / max) * (HEIGHT - 16);
  const last = shown.length ? shown[shown.length - 1][1] : null;
  const peak = shown.length ? Math.max(...shown.map(([, v]) => v)) : null;
  const summary = shown.length
    ? `${label} over the last hour: now ${format(last)}, highest ${format(peak)}.`
    : `${label}: no samples yet.`;
  const root = svg('svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: 'chart', role: 'img', 'aria-label': summary,
    preserveAspectRatio: 'none',
  });
  const title = svg('title', {});
  title.textContent = summary;
  root.append(title);
  root.append(svg('line', { x1: 0, y1: HEIGHT - 4, x2: WIDTH, y2: HEIGHT - 4, class: 'axis' }));
  if (shown.length) {
    const line = shown.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    const first = x(shown[0][0]).toFixed(1);
    const lastX = x(shown[shown.length - 1][0]).toFixed(1);
    root.append(svg('polygon', { points: `${first},${HEIGHT - 4} ${line} ${lastX},${HEIGHT - 4}`, class: 'area' }));
    root.append(svg('polyline', { points: line, class: 'line' }));
  }
  // Labels are HTML beside the drawing, so they keep their shape at any width.
  const labels = document.createElement('div');
  labels.className = 'ticks';
  labels.setAttribute('aria-hidden', 'true');
  for (const text of [`${Math.round(span / 60)} min ago`, `top ${format(max)}${unit ? ` ${unit}` : ''}`, 'now']) {
    const span = document.createElement('span');
    span.textContent = text;
    labels.append(span);
  }
  const wrapper = document.createElement('div');
  wrapper.append(root, labels);
  return wrapper;
}
