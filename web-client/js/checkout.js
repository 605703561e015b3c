// The checkout sheet: after a buy is confirmed the units are reserved until `pay_by`; the buyer
// gives a name, a mobile number and an address (remembered on this device) and picks one of
// the payment methods the server offers (welcome.payments). POST /api/orders/{id}/checkout.
//
// The sheet is rebuilt only when the order or the phase changes, never under the buyer's
// typing: what they typed lives in `draft`; the countdown ticks in place.
import { $, el, setChildren, setText } from './dom.js';
import { formatCountdown, t } from './i18n.js';
import { formatMoney } from './money.js';
import { productImage } from './product_view.js';
import { checkoutOrder } from './buyer_api.js';
import { contactProblems, loadContact, normalizePhone, payRemainingMs, saveContact, statusKey } from './orders.js';
import { openSheet } from './sheet.js';

const FIELDS = ['name', 'phone', 'address'];

// A 400 answer is a sentence from the server; when it names one of our fields, the buyer gets
// that field's own words (in their language) next to it instead.
// The payment page of an order paid online, as a link the buyer taps (a page opened by script
// after a network answer is blocked as a pop-up on phones). Null when there is none.
export function payLink(order) {
  const url = order?.status === 'reserved' ? order.pay_url : null;
  if (typeof url !== 'string' || !/^https?:\/\//.test(url)) return null;
  return el('a', { class: 'btn btn-primary pay-now', href: url, target: '_blank', rel: 'noopener' }, t('checkout.pay_now'));
}

function fieldOf(answer) {
  const text = `${answer?.field ?? ''} ${answer?.message ?? ''}`;
  return FIELDS.find((f) => new RegExp(`\\b${f}\\b`, 'i').test(text)) ?? null;
}

export class CheckoutSheet {
  // body: the sheet's content node; room: for the buyer token and the server clock;
  // product(id): {title, image} for the summary; onPlaced(order) / onShowOrders(): wiring.
  constructor({ body, room, product, onPlaced, onShowOrders }) {
    this.body = body;
    this.room = room;
    this.product = product;
    this.onPlaced = onPlaced;
    this.onShowOrders = onShowOrders;
    this.order = null;
    this.phase = 'form';  // form | sending | placed | over (expired, cancelled, …)
    this.draft = loadContact();
    this.payment = null;
    this.problems = {};  // field -> sentence
    this.error = '';
  }

  payments() {
    const offered = this.room.welcome?.payments;
    // A server that reserves orders but says nothing about payments takes the offline one.
    return Array.isArray(offered) && offered.length ? offered.filter((m) => m === 'offline' || m === 'gateway') : ['offline'];
  }

  // Opens the sheet for a reserved order (from order.confirmed or from My orders).
  start(order) {
    if (this.order?.order_id !== order.order_id) {
      this.draft = loadContact();
      this.problems = {};
      this.error = '';
    }
    this.order = { ...order };
    this.phase = order.status === 'reserved' && !order.payment ? 'form' : order.status === 'reserved' ? 'placed' : 'over';
    const offered = this.payments();
    if (!offered.includes(this.payment)) this.payment = offered[0];
    this.render();
    openSheet('checkout');
  }

  // A later state of an order from order.updated: the sheet follows it if it shows that order.
  update(order) {
    if (!this.order || String(this.order.order_id) !== String(order.order_id)) return;
    this.order = { ...this.order, ...order };
    if (order.status && order.status !== 'reserved' && this.phase !== 'placed') this.phase = 'over';
    this.render();
  }

  tick() {
    const node = $('.checkout-deadline', this.body);
    if (!node || !this.order) return;
    const left = payRemainingMs(this.order, this.room.clock.now());
    // Before checkout: time to check out; after choosing the gateway: time to pay online.
    const paying = this.phase === 'placed' && this.order.payment === 'gateway';
    node.hidden = left === null || !(this.phase === 'form' || paying);
    if (left === null) return;
    setText(node, left === 0 ? t('checkout.expired')
      : t(paying ? 'orders.pay_online_within' : 'checkout.reserved', { t: formatCountdown(left) }));
    node.classList.toggle('urgent', left < 60_000);
    const submit = $('.checkout-submit', this.body);
    if (submit && left === 0) submit.disabled = true;
  }

  render() {
    const o = this.order;
    if (!o) return;
    const p = this.product(o.product_id) || {};
    const title = o.title ?? p.title ?? String(o.product_id);
    const summary = el('div', { class: 'checkout-summary' },
      productImage(o.image ?? p.image, title, 'thumb'),
      el('div', { class: 'checkout-summary-text' },
        el('div', { class: 'checkout-product' }, title),
        el('div', { class: 'muted num' }, `${o.qty ?? 1} × ${formatMoney(o.unit_price ?? Math.round(o.total / (o.qty || 1)), o.currency || 'CNY')}`)),
      el('strong', { class: 'price checkout-total' }, formatMoney(o.total, o.currency || 'CNY')));
    this.body.dataset.phase = this.phase;
    this.body.dataset.orderId = String(o.order_id);
    if (this.phase === 'placed') setChildren(this.body, summary, el('p', { class: 'checkout-deadline num', role: 'timer' }), this.placedView());
    else if (this.phase === 'over') setChildren(this.body, summary, this.overView());
    else setChildren(this.body, summary, el('p', { class: 'checkout-deadline num', role: 'timer' }), this.form());
    this.tick();
  }

  form() {
    const input = (name, props) => {
      const node = el(name === 'address' ? 'textarea' : 'input', {
        class: 'input', name, id: `checkout-${name}`, value: this.draft[name] ?? '', required: true,
        'aria-invalid': this.problems[name] ? 'true' : 'false', 'aria-describedby': `checkout-${name}-error`, ...props,
      });
      if (name === 'address') node.value = this.draft.address ?? '';
      node.addEventListener('input', () => { this.draft[name] = node.value; });
      return el('label', { class: 'field', for: `checkout-${name}` },
        el('span', {}, t(`checkout.${name}`)), node,
        el('span', { class: 'field-error', id: `checkout-${name}-error`, hidden: !this.problems[name] }, this.problems[name] ?? ''));
    };
    const sending = this.phase === 'sending';
    const offered = this.payments();
    const payments = el('fieldset', { class: 'checkout-payments' },
      el('legend', {}, t('checkout.payment')),
      offered.map((m) => {
        const radio = el('input', { type: 'radio', name: 'payment', value: m, checked: this.payment === m });
        radio.addEventListener('change', () => { this.payment = m; });
        return el('label', { class: 'payment-option', dataset: { payment: m } }, radio, el('span', {}, t(`payment.${m}`)));
      }));
    const form = el('form', { class: 'checkout-form', novalidate: true, autocomplete: 'on' },
      input('name', { autocomplete: 'name', maxlength: '40', enterkeyhint: 'next' }),
      input('phone', { type: 'tel', inputmode: 'tel', autocomplete: 'tel', maxlength: '20', enterkeyhint: 'next', placeholder: '138 0000 0000' }),
      input('address', { autocomplete: 'street-address', maxlength: '200', rows: '2', placeholder: t('checkout.address.placeholder') }),
      payments,
      el('p', { class: 'muted small checkout-note' }, t('checkout.remember')),
      el('p', { class: 'form-error checkout-error', role: 'alert', hidden: !this.error }, this.error),
      el('button', { class: 'btn btn-buy checkout-submit', type: 'submit', disabled: sending },
        sending ? t('checkout.sending') : t('checkout.submit', { total: formatMoney(this.order.total, this.order.currency || 'CNY') })));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submit();
    });
    return form;
  }

  placedView() {
    const o = this.order;
    const detail = o.payment === 'gateway' ? t('checkout.done.gateway')
      : t('checkout.done.offline', { phone: o.contact?.phone ?? normalizePhone(this.draft.phone) ?? '' });
    return el('div', { class: 'checkout-done' },
      el('div', { class: 'checkout-done-icon', 'aria-hidden': 'true' }, '✓'),
      el('h3', {}, t('checkout.done')),
      el('p', {}, detail),
      payLink(o),
      o.contact ? el('p', { class: 'muted small' }, t('orders.ship_to', { name: o.contact.name, address: o.contact.address })) : null,
      el('button', { class: 'btn btn-primary show-my-orders', type: 'button', on: { click: () => this.onShowOrders() } }, t('shop.my_orders')));
  }

  overView() {
    const o = this.order;
    const words = o.status === 'expired' ? t('checkout.expired')
      : this.error || t('checkout.error.conflict', { status: t(statusKey(o)) });
    return el('div', { class: 'checkout-over' },
      el('p', { class: 'form-error', role: 'alert' }, words),
      o.reason ? el('p', { class: 'muted small' }, t('orders.reason', { reason: o.reason })) : null,
      el('button', { class: 'btn show-my-orders', type: 'button', on: { click: () => this.onShowOrders() } }, t('shop.my_orders')));
  }

  async submit() {
    if (this.phase !== 'form') return;
    const problems = contactProblems(this.draft);
    this.problems = Object.fromEntries(Object.entries(problems).map(([f, key]) => [f, t(key)]));
    this.error = '';
    if (Object.keys(problems).length) {
      this.render();
      $(`#checkout-${FIELDS.find((f) => problems[f])}`, this.body)?.focus();
      return;
    }
    // The courier's label has one address line: line breaks typed in the box become spaces.
    const contact = {
      name: this.draft.name.trim(), phone: normalizePhone(this.draft.phone), address: this.draft.address.replace(/\s+/g, ' ').trim(),
    };
    this.phase = 'sending';
    this.render();
    const orderId = this.order.order_id;
    const r = await checkoutOrder(this.room.buyerToken, orderId, contact, this.payment);
    if (String(this.order?.order_id) !== String(orderId)) return;  // another order took the sheet meanwhile
    if (r.ok) {
      saveContact(contact);
      this.order = { ...this.order, ...(r.json || {}), contact: r.json?.contact ?? contact, payment: r.json?.payment ?? this.payment };
      this.phase = 'placed';
      this.render();
      this.onPlaced(this.order);
      return;
    }
    this.phase = 'form';
    if (r.status === 409) {
      this.order = { ...this.order, status: r.json?.status ?? this.order.status };
      this.error = t('checkout.error.conflict', { status: t(statusKey(this.order)) });
      if (this.order.status !== 'reserved') this.phase = 'over';
    } else if (r.status === 400) {
      const field = fieldOf(r.json);
      if (field) this.problems = { [field]: t(`checkout.error.${field}`) };
      else this.error = r.json?.message || t('checkout.error.failed', { status: r.status });
    } else if (r.status === 0) {
      this.error = t('checkout.error.network');
    } else {
      this.error = r.json?.message || t('checkout.error.failed', { status: r.status });
    }
    this.render();
  }
}
