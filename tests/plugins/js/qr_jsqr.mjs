// The burned-in card's QR encoder (plugins/livecommerce/qr_code.cpp) against an independent
// decoder: every symbol qr_matrix prints must decode with jsQR back to its text, at every
// version the encoder makes (1-10) and under each of the eight masks.
// Usage: node qr_jsqr.mjs PATH_TO_qr_matrix
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../package.json', import.meta.url));
const jsQR = require('jsqr');
const tool = process.argv[2];
if (!tool) throw new Error('usage: node qr_jsqr.mjs QR_MATRIX_BIN');

function symbols(texts, mask = null) {
  const args = mask === null ? texts : ['--mask', String(mask), ...texts];
  return execFileSync(tool, args).toString().trim().split('\n').map((l) => JSON.parse(l));
}

// Dark on white at `scale` pixels a module with a 4-module quiet zone, as RGBA.
function decode(sym, scale = 3, border = 4) {
  const size = sym.rows.length;
  const n = (size + 2 * border) * scale;
  const data = new Uint8ClampedArray(n * n * 4).fill(255);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      if (sym.rows[y][x] !== '1') continue;
      for (let dy = 0; dy < scale; dy++)
        for (let dx = 0; dx < scale; dx++) {
          const i = (((y + border) * scale + dy) * n + (x + border) * scale + dx) * 4;
          data[i] = data[i + 1] = data[i + 2] = 0;
        }
    }
  return jsQR(data, n, n, { inversionAttempts: 'dontInvert' });
}

let failures = 0;
function check(cond, what) {
  if (!cond) {
    failures++;
    console.error('FAIL ' + what);
  }
}

// Lengths at and around each version's capacity (level M, byte mode: 14 26 42 62 84 106 122 152 180 213).
const texts = ['https://192.168.1.20:8443/trace/XJ-2026-0001', 'http://farm.example.cn/trace/隰县-0912', 'a'];
for (const cap of [14, 26, 42, 62, 84, 106, 122, 152, 180, 213]) {
  texts.push('t'.repeat(cap));
  texts.push('u'.repeat(cap + 1 <= 213 ? cap + 1 : cap - 1));
}
const versions = new Set();
for (const [i, sym] of symbols(texts).entries()) {
  const got = decode(sym);
  versions.add(sym.version);
  check(got !== null && got.data === texts[i], `version ${sym.version} mask ${sym.mask}: "${texts[i].slice(0, 40)}" decoded as ${JSON.stringify(got?.data)}`);
  check(got === null || got.version === sym.version, `jsQR read version ${got?.version}, encoder said ${sym.version}`);
  check(sym.rows.length === 17 + 4 * sym.version, `size of version ${sym.version}`);
}
for (let v = 1; v <= 10; v++) check(versions.has(v), `version ${v} exercised`);

// Each mask, forced, on a trace URL (version 4) and on a version-7 text (version information blocks).
for (let mask = 0; mask < 8; mask++) {
  const t = ['https://192.168.1.20:8443/trace/XJ-2026-0001', 'v'.repeat(110)];
  for (const [i, sym] of symbols(t, mask).entries()) {
    check(sym.mask === mask, `forced mask ${mask}`);
    check(decode(sym)?.data === t[i], `mask ${mask} version ${sym.version} decodes`);
  }
}

// Too long for version 10: refused, not truncated.
let refused = false;
try { execFileSync(tool, ['x'.repeat(214)], { stdio: 'pipe' }); } catch (e) { refused = e.status === 1; }
check(refused, '214 bytes are refused');

console.log(`${texts.length + 16} symbols decoded with jsQR; versions ${[...versions].sort((a, b) => a - b).join(',')}`);
if (failures > 0) process.exit(1);
