// The server's wall clock as seen from this device. Countdowns run on server time, so a
// phone whose clock is two minutes off still shows the right seconds left.
//
// Each sample is (server_time, sent, received): the server read its clock somewhere between
// `sent` and `received`, so the offset is server_time - midpoint, with an error of at most
// half the round trip. The sample with the shortest round trip wins; a `welcome` (no send
// time known) only counts until a ping/pong sample exists.
export class ServerClock {
  constructor(now = () => Date.now()) {
    this.localNow = now;
    this.offsetMs = 0;
    this.uncertaintyMs = Infinity;
    this.samples = 0;
  }

  sample(serverTime, sentAt, receivedAt) {
    if (!Number.isFinite(serverTime)) return;
    const rtt = Number.isFinite(sentAt) ? Math.max(0, receivedAt - sentAt) : Infinity;
    const uncertainty = Number.isFinite(rtt) ? rtt / 2 : 60_000;
    const mid = Number.isFinite(sentAt) ? (sentAt + receivedAt) / 2 : receivedAt;
    this.samples += 1;
    // Prefer the tightest sample; let old samples age so a clock step is picked up.
    if (uncertainty <= this.uncertaintyMs || this.samples % 8 === 0 || !Number.isFinite(this.uncertaintyMs)) {
      this.offsetMs = serverTime - mid;
      this.uncertaintyMs = uncertainty;
    } else {
      this.uncertaintyMs += 1;
    }
  }

  reset() {
    this.uncertaintyMs = Infinity;
  }

  now() {
    return this.localNow() + this.offsetMs;
  }

  // A server timestamp as a local Date.now() value.
  toLocal(serverTime) {
    return serverTime - this.offsetMs;
  }
}
