// Product photos from the phone: the picked File goes as the body of POST /api/images (its own
// type as Content-Type); the server decodes it, strips EXIF/GPS, scales it and answers
// {url, width, height}. Errors come back as translated sentences (js/i18n.js).
import { t } from './i18n.js';

// The server's limits (server/api/images.h): checked here too, so a phone on a weak uplink
// does not send 20 MB only to be refused.
export const MAX_PHOTO_BYTES = 6 * 1024 * 1024;
export const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp'];

// The i18n key of what is wrong with `file` before sending it, or null.
export function photoProblem(file) {
  if (!file) return 'photo.error.none';
  if (!PHOTO_TYPES.includes(String(file.type).toLowerCase())) return 'photo.error.type';
  if (file.size > MAX_PHOTO_BYTES) return 'photo.error.too_big';
  if (file.size === 0) return 'photo.error.not_image';
  return null;
}

// The i18n key for a refusal by the server (status and its JSON body).
export function refusalKey(status, body) {
  if (status === 400) return 'photo.error.not_image';
  if (status === 413) return body?.error === 'image_too_large' ? 'photo.error.too_many_pixels' : 'photo.error.too_big';
  if (status === 415) return 'photo.error.type';
  if (status === 401 || status === 403) return 'photo.error.signin';
  if (status === 503) return 'photo.error.busy';
  return 'photo.error.failed';
}

// Resolves to {url, width, height}; rejects with an Error whose message is for the user.
export async function uploadPhoto(file, token, fetchImpl = fetch) {
  const problem = photoProblem(file);
  if (problem) throw new Error(t(problem, { mb: MAX_PHOTO_BYTES / 1024 / 1024 }));
  let res;
  try {
    res = await fetchImpl('/api/images', {
      method: 'POST', body: file, cache: 'no-store',
      headers: { 'content-type': file.type, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    });
  } catch {
    throw new Error(t('photo.error.network'));
  }
  let body = null;
  try {
    body = await res.json();
  } catch {
    // not JSON: the status says enough
  }
  if (res.status === 201 && body?.url) return body;
  throw new Error(t(refusalKey(res.status, body), { mb: MAX_PHOTO_BYTES / 1024 / 1024, status: res.status }));
}
