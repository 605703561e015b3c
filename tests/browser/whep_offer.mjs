// A receive-only WHEP offer made in the page, as the viewer page makes it
// (web-client/js/whep.js): bundled, video and audio recvonly, every candidate gathered (the
// server takes no trickle ICE). Page-side source shared by the WHEP test and the benchmarks:
// evaluate it in a page (page.evaluate, or inline in a bench's own page), then
// `await window.recvonlyOffer()` resolves with the RTCPeerConnection whose localDescription is
// the offer to POST.
export const RECVONLY_OFFER_SOURCE = `window.recvonlyOffer = async function (gatherMs = 3000) {
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
    setTimeout(resolve, gatherMs);
  });
  return pc;
};`;
