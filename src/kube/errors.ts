import { CliError, ExitCode } from '../errors.js';
import type { ResolvedKubeConfig } from './config.js';
import { maskProxyUrl } from './proxy-env.js';

/** The `metav1.Status` body a Kubernetes API server sends with every error. */
export interface KubeStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; group?: string; kind?: string; causes?: { reason?: string; message?: string; field?: string }[] };
}

/**
 * An error reply from the API server, carrying the server's own message (which users can search for) and a
 * hint that says what to do. Callers check `code` and `reason` to handle the cases they expect (404, 409).
 */
export class KubeApiError extends CliError {
  readonly code: number;
  readonly reason: string;
  readonly status: KubeStatus;

  constructor(message: string, code: number, status: KubeStatus, hint?: string) {
    super(message, { hint, exitCode: ExitCode.failed });
    this.name = 'KubeApiError';
    this.code = code;
    this.reason = status.reason ?? '';
    this.status = status;
  }

  static fromResponse(code: number, body: string, where: string, method: string, path: string): KubeApiError {
    let status: KubeStatus = {};
    try {
      status = JSON.parse(body) as KubeStatus;
    } catch {
      status = { message: body.trim().slice(0, 300) };
    }
    const serverMessage = status.message || `${method} ${path} failed with HTTP ${code}`;
    switch (code) {
      case 401:
        return new KubeApiError(`the cluster rejected the credentials of ${where} (401 Unauthorized)`, code, status,
          'Your token or certificate may have expired: log in again (for example `aws eks update-kubeconfig`, `gcloud container clusters get-credentials`), or choose another --context.');
      case 403: {
        const permission = permissionFor(method, path);
        const message = status.message ? serverMessage : `forbidden: cannot ${permission.verb} ${permission.resource}${permission.namespace ? ` in namespace ${permission.namespace}` : ''}`;
        return new KubeApiError(message, code, status,
          `Ask a cluster admin to allow "${permission.verb}" on ${permission.resource}${permission.namespace ? ` in namespace ${permission.namespace}` : ' (cluster-wide)'} (check: kubectl auth can-i ${permission.verb} ${permission.resource}${permission.namespace ? ` -n ${permission.namespace}` : ''}), or run \`sympozium doctor\` to see every permission sympozium needs.`);
      }
      case 404:
        if (!status.details?.name && /could not find the requested resource/.test(serverMessage)) {
          return new KubeApiError(`${serverMessage} (${method} ${path})`, code, status,
            'The cluster does not serve this API: are the Sympozium CRDs installed? Run `sympozium doctor`.');
        }
        return new KubeApiError(serverMessage, code, status);
      case 409:
        return new KubeApiError(serverMessage, code, status);
      case 422:
      case 400:
        return new KubeApiError(serverMessage, code, status,
          ['POST', 'PUT', 'PATCH'].includes(method.toUpperCase())
            ? 'Check the manifest with `sympozium validate -f <file>`.'
            : 'The cluster refused the request itself: run again with --verbose and report it if it persists.');
      case 429:
        return new KubeApiError(`${serverMessage} (the API server is throttling requests)`, code, status, 'Wait a moment and try again.');
      default:
        return new KubeApiError(
          code >= 500 ? `the API server failed: ${serverMessage} (HTTP ${code})` : serverMessage,
          code,
          status,
          code >= 500 ? 'This is usually temporary: try again, and run `sympozium doctor` if it persists.' : undefined,
        );
    }
  }
}

/**
 * The RBAC verb and resource a request needs, read back from its method and path, so a 403 can name the
 * missing permission even when the server's message is empty.
 */
export function permissionFor(method: string, path: string): { verb: string; resource: string; namespace?: string } {
  const [pathname = '', search = ''] = path.split('?');
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  // /api/v1/... or /apis/<group>/<version>/...
  const group = parts[0] === 'apis' ? parts[1] ?? '' : '';
  let rest = parts.slice(parts[0] === 'apis' ? 3 : 2);
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const plural = rest[0] ?? 'namespaces';
  const named = rest.length >= 2;
  const subresource = rest[2];
  const resource = `${plural}${subresource ? `/${subresource}` : ''}${group ? `.${group}` : ''}`;
  const upper = method.toUpperCase();
  const watching = /(^|&)watch=(true|1)/.test(search);
  const verb =
    upper === 'GET' ? (watching ? 'watch' : named ? 'get' : 'list')
      : upper === 'POST' ? 'create'
        : upper === 'PUT' ? 'update'
          : upper === 'PATCH' ? 'patch'
            : upper === 'DELETE' ? (named ? 'delete' : 'deletecollection')
              : upper.toLowerCase();
  return { verb, resource, namespace };
}

/** A 404 because the API itself is not served (no CRD), as opposed to a missing object. */
export function isUnservedApi(error: unknown): boolean {
  return error instanceof KubeApiError && error.code === 404 && !error.status.details?.name && /could not find the requested resource/.test(error.status.message ?? '');
}

export function isNotFound(error: unknown): boolean {
  return error instanceof KubeApiError && error.code === 404;
}

export function isConflict(error: unknown): boolean {
  return error instanceof KubeApiError && error.code === 409 && error.reason === 'Conflict';
}

/** OpenSSL's and Node's verification codes, by what a user can do about them. */
const unknownAuthority = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'INVALID_CA',
  'INVALID_PURPOSE',
]);
const expired = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
const nameMismatch = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH']);

/**
 * Turns a socket-level failure into one line that says which part failed (TLS, the network, the proxy) and
 * names the cluster, with a hint that says what to check. A TLS failure is never reported as "cannot reach".
 */
export function connectionError(
  error: Error,
  config: Pick<ResolvedKubeConfig, 'server' | 'contextName' | 'serverWithoutScheme'>,
  proxy?: { url: URL; source: string },
): CliError {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const where = `${config.server} (context "${config.contextName}")`;
  // http:// to a TLS port: the server drops the connection (kubectl says "EOF"). Say where the http came from.
  if (config.serverWithoutScheme && (code === 'ECONNRESET' || code === 'EPIPE' || /socket hang up/.test(error.message))) {
    return new CliError(`cannot talk to the cluster at ${where}: the connection was closed (${error.message})`, {
      hint: `The kubeconfig's server "${config.serverWithoutScheme}" has no scheme, so it is read as http://, as kubectl reads it; if the API server speaks TLS (most do), write https://${config.serverWithoutScheme} in the kubeconfig.`,
      cause: error,
    });
  }
  if (unknownAuthority.has(code)) {
    return new CliError(`TLS: the certificate of ${where} is signed by an unknown authority (${code}: ${error.message})`, {
      hint: "The kubeconfig's certificate-authority does not match the server: fetch fresh credentials for this cluster, or check certificate-authority(-data) in the kubeconfig.",
      cause: error,
    });
  }
  if (expired.has(code)) {
    return new CliError(`TLS: the certificate of ${where} is outside its validity dates (${error.message})`, {
      hint: "Check this machine's clock; if it is right, the cluster's certificate has to be renewed by its administrator.",
      cause: error,
    });
  }
  if (nameMismatch.has(code)) {
    return new CliError(`TLS: the certificate of ${where} is not valid for this name (${error.message})`, {
      hint: 'The server address in the kubeconfig does not match its certificate: use the name the certificate is for, or set tls-server-name in the kubeconfig cluster.',
      cause: error,
    });
  }
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code.startsWith('ERR_OSSL_') || /alert|handshake/i.test(error.message)) {
    return new CliError(`TLS: the connection to ${where} failed during the TLS handshake: ${error.message}`, {
      hint: 'The server refused the TLS handshake (it may require a client certificate the kubeconfig does not have, or not speak TLS at all): check the server address and the kubeconfig credentials.',
      cause: error,
    });
  }
  const reason = code === 'ECONNREFUSED' ? 'connection refused' : code === 'ENOTFOUND' ? 'host not found' : code === 'ETIMEDOUT' ? 'timed out' : error.message;
  return new CliError(`cannot reach the cluster at ${where}${proxy ? ` through the proxy ${maskProxyUrl(proxy.url)}` : ''}: ${reason}`, {
    hint: proxy
      ? `The proxy (${proxy.source}) accepted the connection but the cluster did not answer through it: check that the proxy can reach the cluster, or that the cluster is up.`
      : 'Is the cluster running and is this the right context? Check with `sympozium doctor`, or `kubectl config get-contexts`. For a local one: `sympozium dev up`.',
    cause: error,
  });
}
