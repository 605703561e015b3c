// Building DOM nodes without ever parsing HTML: every string becomes a text node or an
// attribute value, so a product titled `<img src=x onerror=alert(1)>` shows those characters.

const SVG_NS = 'http://www.w3.org/2000/svg';

function applyProps(node, props) {
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.setAttribute('class', value);
    else if (key === 'text') node.textContent = String(value);
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key === 'on') {
      for (const [event, handler] of Object.entries(value)) node.addEventListener(event, handler);
    } else if (key.startsWith('on') || key === 'innerHTML' || key === 'outerHTML') {
      // Event handlers go through `on`; markup never goes in at all.
      throw new Error(`dom: refusing property ${key}`);
    } else if (key in node && !(node instanceof SVGElement) && typeof value !== 'string') {
      node[key] = value;  // e.g. disabled, checked, value as a number
    } else {
      node.setAttribute(key, value === true ? '' : String(value));
    }
  }
}

function appendChildren(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

// el('div', {class: 'card'}, 'text', otherNode, [more, nodes])
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  applyProps(node, props);
  appendChildren(node, children);
  return node;
}

export function svg(tag, props = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  applyProps(node, props);
  appendChildren(node, children);
  return node;
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

export function $$(selector, root = document) {
  return [...root.querySelectorAll(selector)];
}

// Replaces all children of `node` (text or nodes), keeping `node` itself.
export function setChildren(node, ...children) {
  node.replaceChildren();
  appendChildren(node, children);
  return node;
}

// Sets text only when it changed, so a countdown ticking every second does not
// restart CSS transitions or move the caret of a neighbouring input.
export function setText(node, text) {
  const s = String(text);
  if (node.textContent !== s) node.textContent = s;
}

// The stream id from /watch/{id}, /host/{id}, /broadcast/{id}.
// Shows `text` in the page's #toast for 4 s (`kind`: info | error), replacing the one shown.
export function toast(text, kind = 'info') {
  const box = $('#toast');
  box.dataset.kind = kind;
  setText(box, text);
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 4000);
}

export function streamIdFromPath(pathname = location.pathname) {
  const parts = pathname.split('/').filter(Boolean);
  return parts.length >= 2 ? decodeURIComponent(parts[1]) : '';
}

// Reads and removes `#key=value&...` from the address bar, so a token handed over in a
// fragment (never sent to the server) does not stay in the history or get copied along.
export function takeHashParams() {
  const hash = location.hash.replace(/^#/, '');
  if (!hash) return {};
  const params = Object.fromEntries(new URLSearchParams(hash));
  history.replaceState(null, '', location.pathname + location.search);
  return params;
}

export function randomId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}
