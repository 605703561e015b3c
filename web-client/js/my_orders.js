// "My orders": the buyer's orders on this device's buyer token (GET /api/me/orders), newest
// first, kept current by `order.updated` over the room's websocket — the buyer sees "shipped"
// and the tracking number appear without reloading. A reserved order can be checked out or
// cancelled from here (POST /api/orders/{id}/cancel, confirmed inline: no dialog boxes).
import { $, $$, el, setChildren, setText } from './dom.js';
import { formatCountdown, lang, t } from './i18n.js';
import { formatMoney } from './money.js';
import { productImage } from './product_view.js';
import { cancelOrder, fetchMyOrders } from './buyer_api.js';
import { awaitsCheckout, payRemainingMs, statusKey, upsertOrder } from './orders.js';
import { payLink } from './checkout.js';

export class MyOrders {
  // list: the <ol> in the sheet; room: buyer token and server clock; product(id): catalog facts
  // for orders that lack title/image; onCheckout(order): opens the checkout sheet.
  constructor({ list, room, product, onCheckout }) {
    this.list = list;
    this.room = room;
    this.product = product;
    this.onCheckout = onCheckout;
    this.orders = [];
    this.loaded = false;
    this.loadError = '';
    this.confirming = null;  // order id whose cancel awaits "yes"
    this.busy = new Set();   // order ids with a request in flight
    this.errors = new Map(); // order id -> sentence
  }

  async load() {
    if (!this.room.buyerToken) {
      // No welcome yet (first visit, still connecting): no identity to ask with.
      this.loaded = false;
      this.render();
      return;
    }
    const r = await fetchMyOrders(this.room.buyerToken);
    if (r.ok && Array.isArray(r.json?.orders)) {
      this.orders = [];
      for (const o of r.json.orders) this.orders = upsertOrder(this.orders, o);
      this.loaded = true;
      this.loadError = '';
    } else {
      this.loadError = r.status === 0 ? t('checkout.error.network') : t('orders.error', { status: r.status });
    }
    this.render();
  }

  // An order from order.updated or a checkout answer.
  upsert(order) {
    this.orders = upsertOrder(this.orders, order);
    this.errors.delete(String(order.order_id));
    this.render();
  }

  find(orderId) {
    return this.orders.find((o) => String(o.order_id) === String(orderId)) ?? null;
  }

  tick() {
    const now = this.room.clock.now();
    for (const node of $$('.my-order-deadline', this.list)) {
      const o = this.find(node.dataset.orderId);
      const left = o ? payRemainingMs(o, now) : null;
      if (left === null) continue;
      const key = awaitsCheckout(o) ? 'orders.pay_within' : 'orders.pay_online_within';
      setText(node, left > 0 ? t(key, { t: formatCountdown(left) }) : t('checkout.expired'));
    }
  }

  async cancel(order) {
    const id = String(order.order_id);
    this.confirming = null;
    this.busy.add(id);
    this.render();
    const r = await cancelOrder(this.room.buyerToken, order.order_id);
    this.busy.delete(id);
    if (r.ok && r.json) this.upsert(r.json);
    else {
      if (r.status === 409 && r.json?.status) this.orders = upsertOrder(this.orders, { order_id: order.order_id, status: r.json.status });
      this.errors.set(id, r.status === 409 ? t('checkout.error.conflict', { status: t(statusKey({ ...order, status: r.json?.status })) })
        : t('orders.cancel.failed', { status: r.status || '—' }));
      this.render();
    }
  }

  render() {
    if (!this.loaded && !this.orders.length) {
      setChildren(this.list, el('li', { class: 'empty' }, this.loadError || t('orders.loading'),
        this.loadError ? el('button', { class: 'btn btn-sm retry', type: 'button', on: { click: () => this.load() } }, t('orders.retry')) : null));
      return;
    }
    if (!this.orders.length) {
      setChildren(this.list, el('li', { class: 'empty' }, t('orders.empty')));
      return;
    }
    setChildren(this.list, this.orders.map((o) => this.row(o)));
    this.tick();
  }

  row(o) {
    const id = String(o.order_id);
    const p = this.product(o.product_id) || {};
    const title = o.title ?? p.title ?? String(o.product_id);
    const currency = o.currency || 'CNY';
    const when = Number.isFinite(o.server_time)
      ? new Date(this.room.clock.toLocal(o.server_time)).toLocaleString(lang(), { dateStyle: 'short', timeStyle: 'short' }) : '';
    const busy = this.busy.has(id);
    const lines = [];
    // Reserved with a deadline: not checked out yet, or waiting for the online payment.
    if (o.status === 'reserved' && Number.isFinite(o.pay_by)) lines.push(el('p', { class: 'my-order-deadline num', dataset: { orderId: id } }));
    if (payLink(o)) lines.push(el('p', {}, payLink(o)));
    if (o.status === 'reserved' && o.payment === 'offline') lines.push(el('p', { class: 'my-order-hint' }, t('orders.hint.offline')));
    if (o.status === 'paid') lines.push(el('p', { class: 'my-order-hint' }, t('orders.hint.paid')));
    if ((o.status === 'shipped' || o.status === 'delivered') && o.tracking)
      lines.push(el('p', { class: 'my-order-tracking' }, t('orders.tracking', { carrier: o.carrier || '—' }), ' ',
        el('span', { class: 'tracking-number mono' }, o.tracking)));
    if (o.contact && !['cancelled', 'expired', 'refunded'].includes(o.status))
      lines.push(el('p', { class: 'muted small' }, t('orders.ship_to', { name: o.contact.name, address: o.contact.address })));
    if (o.reason && ['cancelled', 'refunded'].includes(o.status)) lines.push(el('p', { class: 'muted small' }, t('orders.reason', { reason: o.reason })));
    if (this.errors.has(id)) lines.push(el('p', { class: 'form-error', role: 'alert' }, this.errors.get(id)));

    let actions = null;
    if (o.status === 'reserved' && this.confirming === id) {
      actions = el('div', { class: 'my-order-actions confirm' },
        el('span', {}, t('orders.cancel.confirm')),
        el('button', { class: 'btn btn-sm btn-danger cancel-yes', type: 'button', on: { click: () => this.cancel(o) } }, t('orders.cancel.yes')),
        el('button', { class: 'btn btn-sm cancel-no', type: 'button', on: { click: () => { this.confirming = null; this.render(); } } }, t('orders.cancel.no')));
    } else if (o.status === 'reserved') {
      actions = el('div', { class: 'my-order-actions' },
        awaitsCheckout(o) ? el('button', { class: 'btn btn-sm btn-buy checkout-order', type: 'button', disabled: busy, on: { click: () => this.onCheckout(o) } }, t('orders.checkout')) : null,
        el('button', { class: 'btn btn-sm cancel-order', type: 'button', disabled: busy, on: { click: () => { this.confirming = id; this.render(); } } }, t('orders.cancel')));
    }

    return el('li', { class: 'my-order', dataset: { orderId: id, status: o.status ?? '' } },
      productImage(o.image ?? p.image, title, 'thumb'),
      el('div', { class: 'my-order-body' },
        el('div', { class: 'my-order-top' },
          el('span', { class: 'order-status', dataset: { status: o.status ?? '' } }, t(statusKey(o))),
          el('strong', { class: 'price num' }, formatMoney(o.total, currency))),
        el('div', { class: 'my-order-title' }, title),
        el('div', { class: 'muted small num' }, `${o.qty ?? 1} × ${formatMoney(o.unit_price, currency)} · #${id}${when ? ` · ${when}` : ''}`),
        lines,
        actions));
  }
}
