// The websocket to a stream's room (protocol v1, see docs/protocol.md). Reconnects with backoff,
// keeps the buyer identity the server gave (its buyer token) across reconnects and reloads, re-sends unanswered purchases with
// their original idempotency key (the server answers a repeated key with the first answer),
// and keeps the server clock offset from `welcome` and `pong`.
import { ServerClock } from './clock.js';
import { randomId } from './dom.js';

const BUYER_TOKEN_KEY = 'harvest.buyer_token';
const PING_EVERY_MS = 10_000;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10_000;

export function backoffDelay(attempt, random = Math.random) {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** attempt);
  return Math.round(base / 2 + random() * (base / 2));  // "equal jitter"
}

function storedBuyerToken() {
  try {
    return localStorage.getItem(BUYER_TOKEN_KEY) || '';
  } catch {
    return '';
  }
}

// state: 'connecting' | 'open' | 'reconnecting' | 'offline' | 'refused' (unknown stream, bad token)
export class Room extends EventTarget {
  // `replay`: the live session a replay viewer watches (its buys are attributed to that replay).
  constructor({ streamId, token = '', role = 'viewer', replay = '' }) {
    super();
    this.streamId = streamId;
    this.replay = replay;
    this.token = token;
    this.role = role;
    this.clock = new ServerClock();
    this.state = 'connecting';
    this.buyerToken = role === 'viewer' ? storedBuyerToken() : '';
    this.viewerId = '';  // from welcome
    this.welcome = null;
    this.refused = null;
    this.attempt = 0;
    this.retryAt = 0;
    this.ws = null;
    this.timer = null;
    this.pingTimer = null;
    this.pendingPings = new Map();
    this.pending = new Map();  // id -> {message, resolve} for requests that must be answered
    this.welcomes = 0;
    this.closedByUs = false;
    this.everOpened = false;
    window.addEventListener('online', () => this.reconnectNow());
    window.addEventListener('offline', () => this.setState('offline'));
  }

  url() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const params = new URLSearchParams({ stream: this.streamId });
    if (this.token) params.set('token', this.token);
    if (this.replay) params.set('replay', this.replay);
    // The same buyer again (per-buyer limits, mutes and orders follow it); the server gives a
    // new one when this is missing or not genuine.
    if (this.buyerToken) params.set('buyer', this.buyerToken);
    return `${scheme}//${location.host}/ws?${params}`;
  }

  connect() {
    this.closedByUs = false;
    clearTimeout(this.timer);
    if (this.ws) return;
    if (navigator.onLine === false) {
      this.setState('offline');
      return;
    }
    this.setState(this.everOpened || this.attempt > 0 ? 'reconnecting' : 'connecting');
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.addEventListener('message', (e) => this.onMessage(e.data));
    ws.addEventListener('close', (e) => this.onClose(ws, e));
    ws.addEventListener('open', () => {
      this.everOpened = true;
    });
  }

  close() {
    this.closedByUs = true;
    clearTimeout(this.timer);
    clearInterval(this.pingTimer);
    if (this.ws) this.ws.close(1000);
    this.ws = null;
  }

  reconnectNow() {
    if (this.closedByUs) return;
    this.attempt = 0;
    if (!this.ws) this.connect();
  }

  setState(state, detail = {}) {
    this.state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: { state, retryAt: this.retryAt, ...detail } }));
  }

  onClose(ws, event) {
    if (this.ws !== ws) return;
    this.ws = null;
    this.welcome = null;
    clearInterval(this.pingTimer);
    this.dispatchEvent(new CustomEvent('disconnected', { detail: { code: event.code, reason: event.reason } }));
    if (!this.closedByUs) this.scheduleReconnect();
  }

  scheduleReconnect() {
    if (navigator.onLine === false) {
      this.setState('offline');
      return;
    }
    const delay = backoffDelay(this.attempt++);
    this.retryAt = Date.now() + delay;
    this.setState('reconnecting');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  send(message) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  // Sends `message` with an id and resolves with the reply that carries it in `re`.
  // Unanswered requests are sent again after every reconnect, with the same id and body.
  request(message, { id = randomId(), resend = false } = {}) {
    const full = { ...message, id };
    return new Promise((resolve) => {
      this.pending.set(id, { message: full, resolve, resend });
      this.send(full);
    });
  }

  ping() {
    const id = randomId();
    this.pendingPings.set(id, performance.now());
    // Keep the map small if pongs never come back.
    if (this.pendingPings.size > 8) this.pendingPings.delete(this.pendingPings.keys().next().value);
    this.send({ type: 'ping', id });
  }

  onMessage(data) {
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    if (!msg || typeof msg.type !== 'string') return;
    const receivedAt = Date.now();
    if (msg.type === 'error' && (msg.re === null || msg.re === undefined) && !this.welcome
        && (msg.code === 'forbidden' || (msg.code === 'invalid' && /unknown stream/i.test(msg.message || '')))) {
      // A refusal (unknown stream, bad token): the server closes next; retrying cannot help.
      this.refused = msg;
      this.closedByUs = true;
      clearTimeout(this.timer);
      this.setState('refused', { error: msg });
    }
    if (msg.type === 'welcome') {
      this.welcome = msg;
      this.welcomes += 1;
      this.attempt = 0;
      this.retryAt = 0;
      this.clock.reset();
      this.clock.sample(msg.server_time, NaN, receivedAt);
      if (msg.viewer_id && this.role === 'viewer') {
        this.viewerId = msg.viewer_id;
        this.buyerToken = msg.buyer_token || '';
        try {
          localStorage.setItem(BUYER_TOKEN_KEY, this.buyerToken);
        } catch {
          // Private mode: the identity lasts for this page only.
        }
      }
      this.setState('open');
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => this.ping(), PING_EVERY_MS);
      this.ping();
      // Requests that were in flight when the connection dropped.
      for (const [id, p] of this.pending) {
        if (p.resend) this.send(p.message);
        else {
          this.pending.delete(id);
          p.resolve({ type: 'error', re: id, code: 'disconnected' });
        }
      }
    } else if (msg.type === 'pong') {
      const sentPerf = msg.re ? this.pendingPings.get(msg.re) : undefined;
      if (sentPerf !== undefined) {
        this.pendingPings.delete(msg.re);
        const rtt = performance.now() - sentPerf;
        this.clock.sample(msg.server_time, receivedAt - rtt, receivedAt);
      } else {
        this.clock.sample(msg.server_time, NaN, receivedAt);
      }
    }
    if (msg.re && this.pending.has(msg.re)) {
      const p = this.pending.get(msg.re);
      this.pending.delete(msg.re);
      p.resolve(msg);
    }
    this.dispatchEvent(new CustomEvent('message', { detail: msg }));
    this.dispatchEvent(new CustomEvent(msg.type, { detail: msg }));
  }
}
