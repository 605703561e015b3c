// The buyer's HTTP calls for orders, signed with the buyer token the room got in `welcome`
// (Authorization: Bearer). Every call resolves, never throws: {ok, status, json}, with status 0
// when the network failed, so the sheets can say what happened in words.

async function call(token, path, { method = 'GET', body } = {}) {
  const headers = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, cache: 'no-store', body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    return { ok: false, status: 0, json: null };
  }
  let json = null;
  try {
    json = await res.json();
  } catch {
    // empty or not JSON
  }
  return { ok: res.ok, status: res.status, json };
}

export function fetchMyOrders(token) {
  return call(token, '/api/me/orders');
}

// contact: {name, phone, address}; payment: 'offline' | 'gateway'.
export function checkoutOrder(token, orderId, contact, payment) {
  return call(token, `/api/orders/${encodeURIComponent(orderId)}/checkout`, { method: 'POST', body: { ...contact, payment } });
}

// No reason: the server records who cancelled, and the farmer sees it.
export function cancelOrder(token, orderId) {
  return call(token, `/api/orders/${encodeURIComponent(orderId)}/cancel`, { method: 'POST', body: {} });
}
