import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';

/**
 * Partial trust chains. Go's crypto/x509 accepts a server chain that ends at ANY certificate of the roots pool,
 * so kubectl trusts a kubeconfig whose certificate-authority is an intermediate; OpenSSL (Node) insists on a
 * self-signed root and has no partial-chain switch in Node's API. Only for a kubeconfig CA holding a
 * certificate that is not self-issued is OpenSSL's verdict read instead of enforced: when it fails only for
 * want of the root, the chain is checked here against the kubeconfig CA (signatures, CA flags, validity dates,
 * serverAuth usage, and the name with tls.checkServerIdentity); every other failure stands as OpenSSL found it.
 */

/** The kubeconfig CA's certificates when one of them is not self-issued, else undefined (the normal path). */
export function partialChainPool(ca: Buffer): X509Certificate[] | undefined {
  const pems = ca.toString('utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  let certificates: X509Certificate[];
  try {
    certificates = pems.map((pem) => new X509Certificate(pem));
  } catch {
    // An unreadable CA is OpenSSL's to report, on the normal path.
    return undefined;
  }
  return certificates.some((certificate) => !certificate.checkIssued(certificate)) ? certificates : undefined;
}

/** OpenSSL's codes for "the chain does not reach a root I trust": the one failure a partial chain may cure. */
const missingRoot = new Set(['UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN']);

const serverAuth = '1.3.6.1.5.5.7.3.1';
const anyExtendedKeyUsage = '2.5.29.37.0';

/** Resolves once the handshake is done and the server is trusted; rejects with an error carrying an OpenSSL-style code. */
export function verifyPartialChain(socket: tls.TLSSocket, pool: X509Certificate[], name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      socket.off('error', onError);
      if (socket.authorized) return resolve();
      const opensslSays = String(socket.authorizationError ?? '');
      if (!missingRoot.has(opensslSays)) return reject(tlsFailure(opensslSays, `certificate verify failed: ${opensslSays}`));
      const failure = checkChain(socket, pool, name);
      if (failure) reject(failure);
      else resolve();
    });
  });
}

function checkChain(socket: tls.TLSSocket, pool: X509Certificate[], name: string): Error | undefined {
  const presented: X509Certificate[] = [];
  const seen = new Set<string>();
  for (let entry: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true); entry?.raw; entry = entry.issuerCertificate) {
    const certificate = new X509Certificate(entry.raw);
    if (seen.has(certificate.fingerprint256)) break; // A self-signed certificate is its own issuer.
    seen.add(certificate.fingerprint256);
    presented.push(certificate);
  }
  const leaf = presented[0];
  if (!leaf) return tlsFailure('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'the server sent no certificate');
  const usages = leaf.keyUsage;
  if (usages && usages.length > 0 && !usages.includes(serverAuth) && !usages.includes(anyExtendedKeyUsage)) {
    return tlsFailure('INVALID_PURPOSE', 'the server certificate is not for server authentication');
  }
  const now = Date.now();
  let current = leaf;
  for (let depth = 0; depth <= presented.length; depth += 1) {
    const dated = validity(current, now);
    if (dated) return dated;
    if (pool.some((trusted) => trusted.fingerprint256 === current.fingerprint256)) return nameCheck(socket, name);
    const anchor = pool.find((trusted) => trusted.ca && current.checkIssued(trusted) && current.verify(trusted.publicKey));
    if (anchor) return validity(anchor, now) ?? nameCheck(socket, name);
    const issuer = presented.find((candidate) => candidate !== current && candidate.ca && current.checkIssued(candidate) && current.verify(candidate.publicKey));
    if (!issuer) break;
    current = issuer;
  }
  return tlsFailure('UNABLE_TO_GET_ISSUER_CERT', 'certificate signed by unknown authority');
}

function validity(certificate: X509Certificate, now: number): Error | undefined {
  if (now > Date.parse(certificate.validTo)) return tlsFailure('CERT_HAS_EXPIRED', `certificate has expired (${certificate.subject.replace(/\n/g, ', ')}, valid until ${certificate.validTo})`);
  if (now < Date.parse(certificate.validFrom)) return tlsFailure('CERT_NOT_YET_VALID', `certificate is not yet valid (${certificate.subject.replace(/\n/g, ', ')}, valid from ${certificate.validFrom})`);
  return undefined;
}

function nameCheck(socket: tls.TLSSocket, name: string): Error | undefined {
  return tls.checkServerIdentity(name, socket.getPeerCertificate());
}

function tlsFailure(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}
