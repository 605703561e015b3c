// A video track of random noise, for the uplink check. A camera pointed at a still scene
// compresses to a few hundred kbit/s, and congestion control does not raise its estimate
// beyond what the encoder actually sends (it is "application limited"): the check would then
// measure the scene, not the link. Noise cannot be compressed, so the encoder sends as much as
// the estimate allows and the estimate climbs to what the link carries (up to the session's
// maxBitrate, which caps the data the check costs).
export function noiseTrack({ width = 360, height = 640, fps = 15 } = {}) {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(width, height);
  const pixels = new Uint32Array(image.data.buffer);
  let seed = 0x9e3779b9;
  const paint = () => {
    // xorshift32: Math.random() per pixel would cost more than the encoder.
    for (let i = 0; i < pixels.length; i++) {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      pixels[i] = seed | 0xff000000;  // opaque
    }
    ctx.putImageData(image, 0, 0);
  };
  paint();
  const timer = setInterval(paint, 1000 / fps);
  const track = canvas.captureStream(fps).getVideoTracks()[0];
  return {
    track,
    stop() {
      clearInterval(timer);
      track.stop();
    },
  };
}
