// Chat moderation over real websockets: messages carry an id; only hosts see the sender's
// viewer_id; a host deletes a message (everyone gets chat.deleted) and mutes a viewer (its
// chat.send is forbidden, others still chat); viewers cannot moderate; newcomers get recent chat.
import { Server, Client, run, assert, eq } from './lib.mjs';

run('chat_moderation', async (t) => {
  const server = await Server.start();
  t.defer(() => server.stop());
  const stream = await server.createStream('chat moderation');
  const host = await Client.connect(server, { stream: stream.id, token: stream.host_token });
  t.defer(() => host.close());
  const spammer = await Client.connect(server, { stream: stream.id });
  t.defer(() => spammer.close());
  const other = await Client.connect(server, { stream: stream.id });
  t.defer(() => other.close());
  for (const c of [host, spammer, other]) await c.waitFor((m) => m.type === 'welcome');
  // The server gives each buyer its identity (and a token to come back with).
  const spammerWelcome = spammer.messages.find((m) => m.type === 'welcome');
  const spammerId = spammerWelcome.viewer_id;

  const sent = await spammer.request({ type: 'chat.send', text: '加微信 买便宜梨' });
  eq(sent.type, 'chat', 'echo');
  assert(Number.isInteger(sent.id) && sent.id > 0, 'chat has an id');
  const atHost = await host.waitFor((m) => m.type === 'chat' && m.id === sent.id);
  eq(atHost.viewer_id, spammerId, 'the host sees who wrote it');
  const atOther = await other.waitFor((m) => m.type === 'chat' && m.id === sent.id);
  assert(!('viewer_id' in atOther), 'viewers never see another viewer\'s id');

  // A viewer cannot moderate.
  const notHost = await other.request({ type: 'chat.delete', message_id: sent.id });
  eq(notHost.code, 'forbidden', 'viewer chat.delete');
  eq((await other.request({ type: 'viewer.mute', viewer_id: spammerId })).code, 'forbidden', 'viewer mute');

  // Delete: everyone (sender included) gets chat.deleted with the id.
  const del = await host.request({ type: 'chat.delete', message_id: sent.id });
  eq(del.type, 'chat.deleted', 'host delete answer');
  eq(del.id, sent.id, 'deleted id');
  await other.waitFor((m) => m.type === 'chat.deleted' && m.id === sent.id);
  await spammer.waitFor((m) => m.type === 'chat.deleted' && m.id === sent.id);
  eq((await host.request({ type: 'chat.delete', message_id: 999999 })).code, 'invalid', 'unknown message id');

  // Mute: the spammer's chat is refused, the others still chat.
  const muted = await host.request({ type: 'viewer.mute', viewer_id: spammerId, duration_s: 60 });
  eq(muted.type, 'viewer.muted', 'mute answer');
  eq(muted.duration_s, 60, 'mute duration');
  const refused = await spammer.request({ type: 'chat.send', text: 'again' });
  eq(refused.type, 'error', 'muted chat');
  eq(refused.code, 'forbidden', 'muted chat code');
  assert(/muted/.test(refused.message), 'says why');
  const ok = await other.request({ type: 'chat.send', text: '梨甜吗？' });
  eq(ok.type, 'chat', 'others still chat');
  // Reconnecting with its buyer token does not unmute (the mute is on the buyer)...
  spammer.close();
  const back = await Client.connect(server, { stream: stream.id, buyer: spammerWelcome.buyer_token });
  t.defer(() => back.close());
  const welcome = await back.waitFor((m) => m.type === 'welcome');
  eq(welcome.viewer_id, spammerId, 'the same buyer again');
  eq((await back.request({ type: 'chat.send', text: 'hi' })).code, 'forbidden', 'still muted after reconnect');
  // ...and neither does claiming its id: the server gives identities, a client cannot pick one.
  const claimed = await Client.connect(server, { stream: stream.id, viewer_id: spammerId });
  t.defer(() => claimed.close());
  assert((await claimed.waitFor((m) => m.type === 'welcome')).viewer_id !== spammerId, 'a claimed viewer_id is ignored');

  // The newcomer's welcome has the recent chat, without the deleted message and without ids of viewers.
  assert(Array.isArray(welcome.chat), 'welcome.chat');
  assert(welcome.chat.some((m) => m.id === ok.id && m.text === '梨甜吗？'), 'recent message there');
  assert(!welcome.chat.some((m) => m.id === sent.id), 'deleted message gone');
  assert(welcome.chat.every((m) => !('viewer_id' in m)), 'no viewer ids for viewers');
});
