// Bottom sheets over the lower part of the viewer's stage (product list, product, checkout,
// my orders). One is open at a time, and it never covers the whole stage: the farmer's video
// stays visible above it, and a tap there (on the backdrop) or Escape closes it.
//
// Markup: <section class="sheet" data-sheet="NAME" hidden> with a heading that has tabindex=-1
// and a [data-sheet-close] button, plus one <div class="sheet-backdrop"> in the same stage.
import { $, $$ } from './dom.js';

const closeHandlers = new Map();  // sheet name -> fn called after it closed
let openName = null;
let returnFocus = null;

function sheetNode(name) {
  return $(`.sheet[data-sheet="${name}"]`);
}

export function openSheetName() {
  return openName;
}

export function openSheet(name) {
  if (openName === name) return;
  if (openName) closeSheet({ restoreFocus: false });
  else returnFocus = document.activeElement;
  const node = sheetNode(name);
  openName = name;
  node.hidden = false;
  $('.sheet-backdrop').hidden = false;
  document.body.dataset.sheet = name;
  // For screen readers: the heading is read when the sheet opens.
  $('[tabindex="-1"]', node)?.focus({ preventScroll: true });
}

export function closeSheet({ restoreFocus = true } = {}) {
  if (!openName) return;
  const name = openName;
  sheetNode(name).hidden = true;
  $('.sheet-backdrop').hidden = true;
  openName = null;
  delete document.body.dataset.sheet;
  if (restoreFocus && returnFocus?.isConnected) returnFocus.focus({ preventScroll: true });
  closeHandlers.get(name)?.();
}

export function onSheetClose(name, fn) {
  closeHandlers.set(name, fn);
}

export function initSheets() {
  $('.sheet-backdrop').addEventListener('click', () => closeSheet());
  for (const button of $$('[data-sheet-close]')) button.addEventListener('click', () => closeSheet());
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && openName) closeSheet();
  });
}
