// The show's minutes as a plain SVG chart: GMV per minute as bars (left scale), the peak
// viewers of each minute as a line (right scale). Sized to the width it is drawn at (the
// caller redraws on resize), so its text stays readable from 390 px phones to desktops.
import { svg } from './dom.js';
import { formatMoney } from './money.js';

const MINUTE = 60_000;
const MAX_BARS = 120;  // a longer show is drawn in wider buckets (2, 3... minutes per bar)

// by_minute (sparse, sorted by minute) -> evenly spaced buckets from the first to the last
// minute: {start, gmv, orders, viewers (max peak, or null when unknown)}.
export function bucketMinutes(byMinute) {
  if (!byMinute.length) return [];
  const first = byMinute[0].minute;
  const last = byMinute[byMinute.length - 1].minute;
  const span = Math.floor((last - first) / MINUTE) + 1;
  const per = Math.max(1, Math.ceil(span / MAX_BARS));
  const buckets = [];
  for (let i = 0; i < Math.ceil(span / per); i++)
    buckets.push({ start: first + i * per * MINUTE, minutes: per, gmv: 0, orders: 0, viewers: null });
  for (const m of byMinute) {
    const b = buckets[Math.floor((m.minute - first) / MINUTE / per)];
    b.gmv += m.gmv;
    b.orders += m.orders;
    if (Number.isInteger(m.peak_viewers)) b.viewers = Math.max(b.viewers ?? 0, m.peak_viewers);
  }
  return buckets;
}

// A round upper bound for a scale: 1, 2, 5 x 10^n.
function niceMax(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const f of [1, 2, 5, 10]) if (f * p >= v) return f * p;
  return 10 * p;
}

function clock(ms) {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

// labels: {gmv, viewers, title} already translated.
export function minuteChart(byMinute, width, labels) {
  const buckets = bucketMinutes(byMinute);
  const height = width < 500 ? 200 : 240;
  const pad = { top: 14, right: 34, bottom: 26, left: 58 };
  const w = Math.max(10, width - pad.left - pad.right);
  const h = height - pad.top - pad.bottom;
  const root = svg('svg', { class: 'dash-chart', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img',
    'aria-label': labels.title });
  if (!buckets.length) return root;
  const gmvMax = niceMax(Math.max(...buckets.map((b) => b.gmv)));
  const viewersMax = niceMax(Math.max(1, ...buckets.map((b) => b.viewers ?? 0)));
  const step = w / buckets.length;
  const barW = Math.max(1, Math.min(28, step * 0.7));

  // Grid and scales: 0, half and the top on the left (GMV) and right (viewers).
  for (const f of [0, 0.5, 1]) {
    const y = pad.top + h - f * h;
    root.append(svg('line', { class: 'grid', x1: pad.left, x2: pad.left + w, y1: y, y2: y }));
    root.append(svg('text', { class: 'axis', x: pad.left - 6, y: y + 4, 'text-anchor': 'end' },
      formatMoney(Math.round(gmvMax * f)).replace(/\.00$/, '')));
    root.append(svg('text', { class: 'axis axis-viewers', x: pad.left + w + 6, y: y + 4 }, String(Math.round(viewersMax * f))));
  }
  const bars = svg('g', { class: 'bars' });
  buckets.forEach((b, i) => {
    if (b.gmv <= 0) return;
    const bh = Math.max(1, (b.gmv / gmvMax) * h);
    const x = pad.left + i * step + (step - barW) / 2;
    bars.append(svg('rect', { class: 'bar', x, y: pad.top + h - bh, width: barW, height: bh, rx: Math.min(3, barW / 2) },
      svg('title', {}, `${clock(b.start)} · ${labels.gmv} ${formatMoney(b.gmv)} · ${labels.orders} ${b.orders}`)));
  });
  root.append(bars);

  const points = [];
  buckets.forEach((b, i) => {
    if (b.viewers === null) return;
    points.push(`${(pad.left + i * step + step / 2).toFixed(1)},${(pad.top + h - (b.viewers / viewersMax) * h).toFixed(1)}`);
  });
  if (points.length) {
    root.append(svg('polyline', { class: 'viewers-line', points: points.join(' ') }));
    for (const p of points) {
      const [cx, cy] = p.split(',');
      if (points.length <= 40) root.append(svg('circle', { class: 'viewers-dot', cx, cy, r: 2.5 }));
    }
  }

  // Time along the bottom: the first and last minute, and the middle when there is room.
  const ticks = buckets.length > 2 ? [0, Math.floor(buckets.length / 2), buckets.length - 1] : [0, buckets.length - 1];
  for (const i of [...new Set(ticks)]) {
    const x = pad.left + i * step + step / 2;
    const anchor = i === 0 && buckets.length > 1 ? 'start' : i === buckets.length - 1 && buckets.length > 1 ? 'end' : 'middle';
    root.append(svg('text', { class: 'axis', x: anchor === 'start' ? pad.left : anchor === 'end' ? pad.left + w : x,
      y: height - 8, 'text-anchor': anchor }, clock(buckets[i].start)));
  }
  return root;
}
