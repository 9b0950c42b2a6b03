// The allowed answer is written as a constant around the JSON-escaped uid: it must be exactly the
// document JSON.stringify would give, for any uid the API server (or an attacker) could send.
import { describe, expect, it } from 'vitest';
import { encodeAdmissionResponse, encodeAllowed } from '../../webhook/review.js';

const odd = [
  '705ab4f5-6393-11e8-b7cc-42010a800002',
  'with "quotes" and \\ backslashes',
  '","allowed":false,"x":"',
  '}}{"injected":true}',
  'line\nbreak\ttab\r\u0000\u001f',
  'ünïcødé ✓ 🚀 日本語',
  '\u2028\u2029',
  'lone \ud800 surrogate \udfff',
  'x'.repeat(100_000),
];

describe('encodeAllowed', () => {
  it.each(odd.map((uid) => [uid.length > 60 ? `${uid.slice(0, 20)}… (${uid.length} chars)` : JSON.stringify(uid), uid]))(
    'echoes %s exactly, as valid JSON',
    (_label, uid) => {
      const text = encodeAllowed(uid);
      const parsed = JSON.parse(text) as { apiVersion: string; kind: string; response: Record<string, unknown> };
      expect(parsed).toEqual({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid, allowed: true } });
      expect(Object.keys(parsed.response)).toEqual(['uid', 'allowed']);
      // Byte for byte what stringifying a fresh object gives.
      expect(text).toBe(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid, allowed: true } }));
      expect(text).toBe(encodeAdmissionResponse({ uid, allowed: true }));
    },
  );
});
