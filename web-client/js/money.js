// Money is an integer count of the smallest unit (fen for CNY) plus an ISO 4217 code.
// These helpers never go through floating point.

const SYMBOLS = { CNY: '¥', USD: '$', EUR: '€', GBP: '£', JPY: '¥', HKD: 'HK$' };
const MINOR_DIGITS = { JPY: 0, KRW: 0 };

function group(intString) {
  return intString.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

// formatMoney(3990) -> "¥39.90"; formatMoney(129900) -> "¥1,299.00".
export function formatMoney(minor, currency = 'CNY') {
  if (!Number.isInteger(minor)) return '';
  const digits = MINOR_DIGITS[currency] ?? 2;
  const negative = minor < 0;
  const abs = BigInt(Math.abs(minor));
  const scale = 10n ** BigInt(digits);
  const whole = group((abs / scale).toString());
  const frac = digits ? '.' + (abs % scale).toString().padStart(digits, '0') : '';
  const symbol = SYMBOLS[currency];
  const body = symbol ? `${symbol}${whole}${frac}` : `${whole}${frac} ${currency}`;
  return negative ? `-${body}` : body;
}

// parseMoney("39.9") -> 3990; parseMoney("¥1,299") -> 129900; invalid -> null.
export function parseMoney(text, currency = 'CNY') {
  const digits = MINOR_DIGITS[currency] ?? 2;
  const s = String(text).replace(/[¥$€£,\s]|HK\$/g, '');
  const m = /^(\d{1,9})(?:\.(\d*))?$/.exec(s);
  if (!m) return null;
  const frac = (m[2] || '').slice(0, digits);
  if ((m[2] || '').length > digits && /[1-9]/.test(m[2].slice(digits))) return null;
  return Number(m[1]) * 10 ** digits + Number(frac.padEnd(digits, '0') || 0);
}

// The amount as a plain decimal for an <input>: 3990 -> "39.90".
export function moneyInputValue(minor, currency = 'CNY') {
  const digits = MINOR_DIGITS[currency] ?? 2;
  if (!Number.isInteger(minor)) return '';
  const s = String(Math.abs(minor)).padStart(digits + 1, '0');
  return digits ? `${s.slice(0, -digits)}.${s.slice(-digits)}` : s;
}
