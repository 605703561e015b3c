// Product pictures shared by the viewer page and the host console.
import { el } from './dom.js';

// An <img> for the product, or a tile with the title's first character when there is no
// image or it fails to load. The title only ever goes in as text (alt, textContent).
export function productImage(src, title, className = 'thumb') {
  const fallback = () => el('div', { class: `${className} thumb-fallback`, 'aria-hidden': 'true' },
    [...String(title || '·')][0]);
  if (!src) return fallback();
  const img = el('img', { class: className, src, alt: String(title || ''), loading: 'lazy', decoding: 'async' });
  img.addEventListener('error', () => img.replaceWith(fallback()), { once: true });
  return img;
}
