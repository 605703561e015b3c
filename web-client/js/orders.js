// An order after the tap: what the buyer and the farmer see of its life, shared by the viewer
// page (checkout, my orders) and the host console. Pure, apart from the contact kept in
// localStorage, so node tests it (tests/web/web_units.mjs).
//
// States (docs/protocol.md): reserved → paid → shipped → delivered; cancelled, expired,
// refunded. A reserved order holds its units until `pay_by`; checking out with the offline
// payment clears `pay_by` (the farmer is paid on delivery or by transfer and marks it paid).

export const STATUSES = ['reserved', 'paid', 'shipped', 'delivered', 'cancelled', 'expired', 'refunded'];
const CLOSED = new Set(['delivered', 'cancelled', 'expired', 'refunded']);

// Still something to do for someone (the buyer to check out or pay, the farmer to ship).
export function isOpen(order) {
  return !CLOSED.has(order?.status);
}

// Reserved and not yet checked out: the buyer owes a name, phone and address before pay_by.
export function awaitsCheckout(order) {
  return order?.status === 'reserved' && !order.payment;
}

// The i18n key of the order's state in a word or two ("status.reserved.offline": checked out,
// waiting for the farmer to be paid).
export function statusKey(order) {
  const s = STATUSES.includes(order?.status) ? order.status : 'unknown';
  if (s === 'reserved' && order.payment) return `status.reserved.${order.payment === 'gateway' ? 'gateway' : 'offline'}`;
  return `status.${s}`;
}

// Milliseconds left to check out, on the server's clock; null when there is no deadline.
export function payRemainingMs(order, serverNow) {
  if (order?.status !== 'reserved' || !Number.isFinite(order.pay_by)) return null;
  return Math.max(0, order.pay_by - serverNow);
}

// Replaces the order with the same id (an update) or adds it; newest first, as the server lists.
export function upsertOrder(list, order) {
  const next = list.filter((o) => String(o.order_id) !== String(order.order_id));
  const prev = list.find((o) => String(o.order_id) === String(order.order_id));
  next.push(prev ? { ...prev, ...order } : order);
  return next.sort((a, b) => (b.server_time ?? 0) - (a.server_time ?? 0) || Number(b.order_id) - Number(a.order_id));
}

// A mainland China mobile number as the server wants it (11 digits starting 13-19, the rule of
// server/commerce/phone_check.h), or null. People type spaces, dashes and +86 or 0086 in front;
// those are dropped.
export function normalizePhone(text) {
  const digits = String(text ?? '').replace(/[\s\-()]/g, '').replace(/^(?:\+86|0086|86)(?=1\d{10}$)/, '');
  return /^1[3-9]\d{9}$/.test(digits) ? digits : null;
}

// The checkout form's fields checked before they are sent: {field: i18n key} for each problem.
export function contactProblems({ name, phone, address }) {
  const problems = {};
  if (!String(name ?? '').trim()) problems.name = 'checkout.error.name';
  if (normalizePhone(phone) === null) problems.phone = 'checkout.error.phone';
  if (String(address ?? '').trim().length < 5) problems.address = 'checkout.error.address';
  return problems;
}

// The buyer's name, phone and address, remembered on this device for the next checkout.
const CONTACT_KEY = 'harvest.contact';

export function loadContact(storage = globalThis.localStorage) {
  try {
    const c = JSON.parse(storage?.getItem(CONTACT_KEY) || 'null');
    if (!c || typeof c !== 'object') return { name: '', phone: '', address: '' };
    return { name: String(c.name ?? ''), phone: String(c.phone ?? ''), address: String(c.address ?? '') };
  } catch {
    return { name: '', phone: '', address: '' };
  }
}

export function saveContact(contact, storage = globalThis.localStorage) {
  try {
    storage?.setItem(CONTACT_KEY, JSON.stringify({ name: contact.name, phone: contact.phone, address: contact.address }));
  } catch {
    // Private mode or full: the form just starts empty next time.
  }
}
