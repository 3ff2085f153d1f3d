import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { selfSignedCertificate } from '../src/tls-cert.js';

describe("the emulator's self-signed certificate", () => {
  it('is valid DER every time (a random serial once made ~1 in 250 start-ups fail with "illegal padding")', () => {
    let invalid = 0;
    for (let i = 0; i < 2000; i++) {
      try {
        const certificate = new X509Certificate(selfSignedCertificate().cert);
        expect(certificate.subjectAltName).toContain('127.0.0.1');
      } catch {
        invalid++;
      }
    }
    expect(invalid).toBe(0);
  });
});
