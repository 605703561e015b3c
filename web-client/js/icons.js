// A few line icons as SVG paths, so pages do not depend on an emoji font being installed.
import { setChildren, svg } from './dom.js';

const PATHS = {
  sprout: ['M12 21v-9', 'M12 12c0-4.4 3-7.5 8-7.5 0 5-3 7.5-8 7.5z', 'M12 14.5C12 11 9.6 8 5 8c0 4 2.6 6.5 7 6.5z'],
  'volume-x': ['M11 5 6 9H2v6h4l5 4V5z', 'M22 9l-6 6', 'M16 9l6 6'],
  mic: ['M12 2.5a3 3 0 0 0-3 3v6.5a3 3 0 0 0 6 0V5.5a3 3 0 0 0-3-3z', 'M19 10.5v1.5a7 7 0 0 1-14 0v-1.5', 'M12 19v3.5', 'M8.5 22.5h7'],
  'mic-off': ['M9 9v3a3 3 0 0 0 5.1 2.1', 'M15 9.3V5.5a3 3 0 0 0-5.9-.7', 'M17 16.9A7 7 0 0 1 5 12v-1.5', 'M19 10.5V12c0 .8-.1 1.5-.4 2.2', 'M12 19v3.5', 'M8.5 22.5h7', 'M2 2l20 20'],
  switch: ['M20 4v5h-5', 'M4 20v-5h5', 'M5.5 9A7.5 7.5 0 0 1 19 8.5L20 9', 'M18.5 15A7.5 7.5 0 0 1 5 15.5L4 15'],
  camera: ['M22 18.5a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2h3.5l2-3h5l2 3H20a2 2 0 0 1 2 2z', 'M12 9.5a3.8 3.8 0 1 0 0 7.6 3.8 3.8 0 0 0 0-7.6z'],
  cart: ['M2 3h3l2.6 12.2a1.5 1.5 0 0 0 1.5 1.3h8.8a1.5 1.5 0 0 0 1.5-1.2L21 7H6', 'M9.5 21a1 1 0 1 0 0-2 1 1 0 0 0 0 2z', 'M18 21a1 1 0 1 0 0-2 1 1 0 0 0 0 2z'],
  bolt: ['M13 2 4 14h7l-1 8 9-12h-7z'],
  bag: ['M6 2 3 6v14a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2V6l-3-4z', 'M3 6h18', 'M16 10a4 4 0 0 1-8 0'],
  receipt: ['M4 2v20l2-1 2 1 2-1 2 1 2-1 2 1 2-1 2 1V2l-2 1-2-1-2 1-2-1-2 1-2-1-2 1z', 'M16 8H8', 'M16 12H8', 'M13 16H8'],
  download: ['M12 3v12', 'M7 10l5 5 5-5', 'M4 20h16'],
};

export function icon(name, size = 20) {
  return svg('svg', {
    class: `icon icon-${name}`, viewBox: '0 0 24 24', width: String(size), height: String(size),
    fill: 'none', stroke: 'currentColor', 'stroke-width': '2', 'stroke-linecap': 'round', 'stroke-linejoin': 'round',
    'aria-hidden': 'true', focusable: 'false',
  }, (PATHS[name] || []).map((d) => svg('path', { d })));
}

// Fills every <span data-icon="name" data-size="20"> under root.
export function fillIcons(root = document) {
  for (const node of root.querySelectorAll('[data-icon]')) {
    setChildren(node, icon(node.dataset.icon, Number(node.dataset.size) || 20));
  }
}
