// The host console's origin fields (the "Origin" part of the add-product form): form values to
// the catalog's `origin` object and back. The server checks the record (docs/protocol.md
// "Origin records"); here only the shape is made.

// "绿色食品，地理标志、有机" → ['绿色食品', '地理标志', '有机']: commas (either width), the
// Chinese enumeration comma, semicolons and new lines all separate.
export function splitCertificates(text) {
  return String(text ?? '').split(/[,，、;；\n]/).map((s) => s.trim()).filter(Boolean);
}

const TEXT_FIELDS = ['farm', 'harvest_date', 'method', 'trace_code'];
const PLACE_FIELDS = ['county', 'township', 'village'];

// The origin from the form's `origin_*` fields; null when every one is empty.
export function originFromForm(formData) {
  const value = (name) => String(formData.get(`origin_${name}`) ?? '').trim();
  const origin = { place: {} };
  for (const k of TEXT_FIELDS) if (value(k)) origin[k] = value(k);
  for (const k of PLACE_FIELDS) if (value(k)) origin.place[k] = value(k);
  const certificates = splitCertificates(formData.get('origin_certificates'));
  if (certificates.length) origin.certificates = certificates;
  if (!Object.keys(origin.place).length) delete origin.place;
  return Object.keys(origin).length ? origin : null;
}

// Puts a product's origin into the form (empty fields for what it lacks).
export function fillOriginForm(form, origin) {
  const o = origin || {};
  const set = (name, v) => {
    const input = form.elements.namedItem(`origin_${name}`);
    if (input) input.value = v ?? '';
  };
  for (const k of TEXT_FIELDS) set(k, o[k]);
  for (const k of PLACE_FIELDS) set(k, o.place?.[k]);
  set('certificates', (o.certificates || []).join('，'));
}
