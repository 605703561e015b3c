// The peer for the fan-out benchmark: a broadcast server on npm `ws` doing harvest's job for a
// chat event — a publisher's message is wrapped as {"type":"chat",...} and sent to every other
// client. One process (one core), like harvest's one loop thread; no compression.
//   node ws_broadcast_server.mjs  -> prints "port=N"
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../tests/package.json', import.meta.url));
const { WebSocketServer } = require('ws');

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, clientTracking: true });
wss.on('connection', (ws) => {
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString());
    if (m.type !== 'chat.send') return;
    const out = JSON.stringify({ type: 'chat', from: '主播', role: 'host', text: m.text, server_time: Date.now() });
    for (const c of wss.clients) if (c !== ws && c.readyState === 1) c.send(out);
  });
});
wss.on('listening', () => console.log(`port=${wss.address().port}`));
