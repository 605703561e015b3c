// Draws a QR code as an SVG path into `container` (no canvas, no markup strings).
import { setChildren, svg } from './dom.js';
import { encodeQr, qrPath } from './qr.js';

export function renderQr(container, text, pixels = 160) {
  const qr = encodeQr(text);
  const border = 3;
  const n = qr.size + border * 2;
  const node = svg('svg', {
    class: 'qr', viewBox: `0 0 ${n} ${n}`, width: String(pixels), height: String(pixels),
    role: 'img', 'aria-label': text, 'shape-rendering': 'crispEdges', dataset: { qrText: text },
  }, svg('rect', { width: String(n), height: String(n), fill: '#fff' }), svg('path', { d: qrPath(qr, border) }));
  setChildren(container, node);
  return node;
}
