// The host console's Orders panel: what the farmer has to do after the sale — see who bought
// and where it goes, mark an offline payment as received, ship with a carrier and tracking
// number, mark delivered, cancel or refund with a reason the buyer sees. The list comes from
// GET /api/streams/{id}/orders and follows `order` / `order.updated` pushed to hosts; every
// action is POST /api/orders/{id}/{paid|ship|deliver|cancel|refund}, and a 409 (someone else
// moved it first) takes the state the server reports.
//
// The list is never rebuilt under the farmer's typing (a tracking number half typed): a change
// that arrives meanwhile is drawn when the focus leaves the form.
import { $, el, setChildren, toast } from './dom.js';
import { lang, t } from './i18n.js';
import { formatMoney } from './money.js';
import { isOpen, statusKey, upsertOrder } from './orders.js';

const MAX_SHOWN = 100;
// Common couriers in China, offered as suggestions; any other name may be typed.
const CARRIERS = ['顺丰速运', '中通快递', '圆通速递', '韵达快递', '申通快递', '京东物流', '邮政 EMS', '极兔速递'];
// A farmer mostly ships with one courier: the last one used starts the next ship form.
const LAST_CARRIER_KEY = 'harvest.last_carrier';

function lastCarrier() {
  try {
    return localStorage.getItem(LAST_CARRIER_KEY) ?? '';
  } catch {
    return '';
  }
}

export class HostOrders {
  // panel: the Orders <section>; api(path, options): the console's authorised fetch
  // ({ok, status, json}); token(): the host token (for the CSV download); clock: server time;
  // product(id): catalog facts; onChange(): the stats above follow the list.
  constructor({ panel, streamId, api, token, clock, product, onChange }) {
    this.panel = panel;
    this.list = $('.order-feed', panel);
    this.streamId = streamId;
    this.api = api;
    this.token = token;
    this.clock = clock;
    this.product = product;
    this.onChange = onChange;
    this.orders = [];
    this.filter = 'todo';       // 'todo' (reserved, paid, shipped) | 'all'
    this.form = null;           // {orderId, kind: 'ship' | 'cancel' | 'refund'}
    this.drafts = new Map();    // `${orderId}:${field}` -> text typed
    this.busy = new Set();      // order ids with a request in flight
    this.seen = new Set();      // order ids drawn before: only new ones flash
    this.drawn = false;
    this.stale = false;         // a redraw waits for the farmer to leave the form
    // After the focus has landed (a task later): moving from carrier to tracking is not leaving.
    this.list.addEventListener('focusout', () => setTimeout(() => { if (this.stale) this.render(); }, 0));
    for (const b of panel.querySelectorAll('[data-orders-filter]')) {
      b.addEventListener('click', () => {
        this.filter = b.dataset.ordersFilter;
        this.render(true);
      });
    }
    $('.orders-export', panel).addEventListener('click', (e) => {
      e.preventDefault();
      this.exportCsv();
    });
  }

  // Replaces the list with the server's (GET /api/streams/{id}/orders); false if that failed.
  async load() {
    const r = await this.api(`/api/streams/${encodeURIComponent(this.streamId)}/orders`);
    const list = Array.isArray(r.json) ? r.json : r.json?.orders;
    if (!r.ok || !Array.isArray(list)) return false;
    this.orders = [];
    for (const o of list) this.orders = upsertOrder(this.orders, o);
    this.render();
    this.onChange();
    return true;
  }

  upsert(order) {
    if (order?.order_id === undefined || order.order_id === null) return;
    this.orders = upsertOrder(this.orders, order);
    this.render();
    this.onChange();
  }

  // A line for a server that keeps no order list (legacy feed built from `purchase`).
  addFeedEntry(entry) {
    this.orders = [entry, ...this.orders].slice(0, MAX_SHOWN);
    this.render();
    this.onChange();
  }

  // Orders and takings for the stats: cancelled, expired and refunded orders bring nothing in.
  summary() {
    const counted = this.orders.filter((o) => !['cancelled', 'expired', 'refunded'].includes(o.status));
    return { count: counted.length, gmv: counted.reduce((sum, o) => sum + (Number.isInteger(o.total) ? o.total : 0), 0) };
  }

  async act(order, action, body = {}) {
    const id = String(order.order_id);
    this.busy.add(id);
    this.render(true);
    const r = await this.api(`/api/orders/${encodeURIComponent(order.order_id)}/${action}`, { method: 'POST', body: JSON.stringify(body) });
    this.busy.delete(id);
    if (r.ok && r.json) {
      if (this.form?.orderId === id) this.form = null;
      for (const key of [...this.drafts.keys()]) if (key.startsWith(`${id}:`)) this.drafts.delete(key);
      this.upsert(r.json);
      return;
    }
    if (r.status === 409 && r.json?.status) {
      this.form = null;
      this.upsert({ order_id: order.order_id, status: r.json.status });
      toast(t('host.orders.conflict', { id, status: t(statusKey({ status: r.json.status })) }), 'error');
      return;
    }
    toast(r.json?.message || t('host.orders.failed', { id, status: r.status || '—' }), 'error');
    this.render(true);
  }

  // The courier's list with addresses (GET …/orders?format=csv). The token goes in a header,
  // never in a URL, so the file is fetched here and handed to the browser as a download.
  async exportCsv() {
    let res;
    try {
      res = await fetch(`/api/streams/${encodeURIComponent(this.streamId)}/orders?format=csv`, {
        headers: { authorization: `Bearer ${this.token()}` }, cache: 'no-store',
      });
    } catch {
      toast(t('host.orders.export.failed', { status: '—' }), 'error');
      return;
    }
    if (!res.ok) {
      toast(t('host.orders.export.failed', { status: res.status }), 'error');
      return;
    }
    const url = URL.createObjectURL(await res.blob());
    const a = el('a', { href: url, download: `orders-${this.streamId}.csv`, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  render(force = false) {
    const active = document.activeElement;
    if (!force && active && this.list.contains(active) && active.closest('form')) {
      this.stale = true;
      return;
    }
    this.stale = false;
    for (const b of this.panel.querySelectorAll('[data-orders-filter]')) b.setAttribute('aria-pressed', String(b.dataset.ordersFilter === this.filter));
    const shown = this.orders.filter((o) => this.filter === 'all' || !o.status || isOpen(o)).slice(0, MAX_SHOWN);
    if (!shown.length) {
      setChildren(this.list, el('li', { class: 'empty' },
        this.orders.length && this.filter === 'todo' ? t('host.orders.empty.todo') : t('host.orders.empty')));
    } else {
      setChildren(this.list, shown.map((o) => this.row(o)));
    }
    for (const o of this.orders) this.seen.add(String(o.order_id ?? ''));
    this.drawn = true;
  }

  row(o) {
    const id = String(o.order_id ?? '');
    const p = this.product(o.product_id) || {};
    const currency = o.currency || 'CNY';
    const when = Number.isFinite(o.server_time) ? new Date(this.clock.toLocal(o.server_time)) : null;
    const fresh = this.drawn && !this.seen.has(id);
    const busy = this.busy.has(id);
    const c = o.contact;
    const details = [];
    if (o.status) {
      details.push(c
        ? el('div', { class: 'host-order-contact' },
          el('div', {}, el('strong', { class: 'contact-name' }, c.name), ' ', el('a', { class: 'contact-phone num', href: `tel:${c.phone}` }, c.phone)),
          el('div', { class: 'contact-address' }, c.address))
        : el('div', { class: 'host-order-contact muted' }, t('host.orders.no_contact')));
    }
    if (o.payment) details.push(el('div', { class: 'muted small' }, t(`host.orders.payment.${o.payment === 'gateway' ? 'gateway' : 'offline'}`)));
    if (o.status === 'reserved' && Number.isFinite(o.pay_by))
      details.push(el('div', { class: 'muted small' }, t('host.orders.pay_by', {
        time: new Date(this.clock.toLocal(o.pay_by)).toLocaleTimeString(lang(), { hour: '2-digit', minute: '2-digit' }),
      })));
    if (o.tracking) details.push(el('div', { class: 'host-order-tracking' }, `${o.carrier || '—'} · `, el('span', { class: 'mono' }, o.tracking)));
    if (o.reason) details.push(el('div', { class: 'muted small' }, t('orders.reason', { reason: o.reason })));
    // Set by the server when the payment service paid an order that had already expired or
    // been cancelled: the farmer holds money that is not theirs.
    if (o.flag === 'refund_due') details.push(el('div', { class: 'form-error host-order-flag' }, t('host.orders.flag.refund_due')));

    return el('li', { class: `order-item host-order${fresh ? ' fresh' : ''}`, dataset: { orderId: id, status: o.status ?? '' } },
      el('div', { class: 'order-line' },
        el('span', { class: 'host-order-head' },
          o.status ? el('span', { class: 'order-status', dataset: { status: o.status } }, t(statusKey(o))) : el('span', { class: 'order-buyer' }, o.buyer ?? ''),
          el('span', { class: 'muted small num' }, [id ? `#${id}` : '', when ? when.toLocaleTimeString(lang(), { hour: '2-digit', minute: '2-digit' }) : ''].filter(Boolean).join(' · '))),
        el('span', { class: 'order-total price' }, Number.isInteger(o.total) ? formatMoney(o.total, currency) : '')),
      el('div', { class: 'order-sub' }, `${o.qty ?? 1} × ${o.title ?? p.title ?? o.product_id}`),
      details,
      o.status ? this.actions(o, busy) : null,
      this.form?.orderId === id ? this.formFor(o, this.form.kind, busy) : null);
  }

  actions(o, busy) {
    const id = String(o.order_id);
    const button = (label, cls, onClick, primary = false) => el('button', {
      class: `btn btn-sm ${cls}${primary ? ' btn-primary' : ''}`, type: 'button', disabled: busy, on: { click: onClick },
    }, t(label));
    const open = (kind) => () => {
      this.form = this.form?.orderId === id && this.form.kind === kind ? null : { orderId: id, kind };
      this.render(true);
      const inputs = [...this.list.querySelectorAll(`.host-order[data-order-id="${CSS.escape(id)}"] form input`)];
      (inputs.find((i) => !i.value) ?? inputs[0])?.focus();
    };
    const buttons = [];
    // Marking paid before the buyer has given an address would leave a parcel with nowhere to go.
    if (o.status === 'reserved' && o.contact) buttons.push(button('host.orders.paid', 'mark-paid', () => this.act(o, 'paid'), true));
    if (o.status === 'paid') buttons.push(button('host.orders.ship', 'ship-order', open('ship'), true));
    if (o.status === 'shipped') buttons.push(button('host.orders.deliver', 'mark-delivered', () => this.act(o, 'deliver'), true));
    if (o.status === 'reserved') buttons.push(button('host.orders.cancel', 'btn-danger cancel-order', open('cancel')));
    if (['paid', 'shipped', 'delivered'].includes(o.status)) buttons.push(button('host.orders.refund', 'btn-danger refund-order', open('refund')));
    return buttons.length ? el('div', { class: 'host-order-actions' }, buttons) : null;
  }

  formFor(o, kind, busy) {
    const id = String(o.order_id);
    const field = (name, label, props = {}) => {
      const start = this.drafts.get(`${id}:${name}`) ?? (name === 'carrier' ? lastCarrier() : '');
      const input = el('input', { class: 'input', name, required: true, value: start, ...props });
      input.addEventListener('input', () => this.drafts.set(`${id}:${name}`, input.value));
      return el('label', { class: 'field' }, t(label), input);
    };
    const carriers = el('datalist', { id: `carriers-${id}` }, CARRIERS.map((c) => el('option', { value: c })));
    const fields = kind === 'ship'
      ? [field('carrier', 'host.orders.carrier', { list: `carriers-${id}`, maxlength: '40' }), carriers,
        field('tracking', 'host.orders.tracking', { maxlength: '40', autocomplete: 'off', spellcheck: 'false', class: 'input mono' })]
      : [field('reason', 'host.orders.reason', { maxlength: '200' })];
    const submitLabel = { ship: 'host.orders.confirm_ship', cancel: 'host.orders.confirm_cancel', refund: 'host.orders.confirm_refund' }[kind];
    const form = el('form', { class: `inline-form order-form ${kind}-form`, autocomplete: 'off' },
      fields,
      el('button', { class: `btn btn-sm ${kind === 'ship' ? 'btn-primary' : 'btn-danger'}`, type: 'submit', disabled: busy }, t(submitLabel)),
      el('button', { class: 'btn btn-sm btn-ghost', type: 'button', on: { click: () => { this.form = null; this.render(true); } } }, t('host.orders.close')));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const value = (name) => String(new FormData(form).get(name) ?? '').trim();
      if (kind === 'ship') {
        if (!value('carrier') || !value('tracking')) return void form.reportValidity();
        try {
          localStorage.setItem(LAST_CARRIER_KEY, value('carrier'));
        } catch {
          // Private mode: typed again next time.
        }
        this.act(o, 'ship', { carrier: value('carrier'), tracking: value('tracking') });
      } else {
        if (!value('reason')) return void form.reportValidity();
        this.act(o, kind, { reason: value('reason') });
      }
    });
    return form;
  }
}

