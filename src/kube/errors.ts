import { CliError, ExitCode } from '../errors.js';
import type { ResolvedKubeConfig } from './config.js';

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

/** Turns a socket-level failure into one line that names the cluster and says what to check. */
export function connectionError(error: Error, config: Pick<ResolvedKubeConfig, 'server' | 'contextName'>): CliError {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const where = `${config.server} (context "${config.contextName}")`;
  const tlsCodes = ['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'];
  if (tlsCodes.includes(code)) {
    return new CliError(`cannot verify the TLS certificate of ${where}: ${error.message}`, {
      hint: "The kubeconfig's certificate-authority does not match the server. Fetch fresh credentials for this cluster.",
      cause: error,
    });
  }
  const reason = code === 'ECONNREFUSED' ? 'connection refused' : code === 'ENOTFOUND' ? 'host not found' : code === 'ETIMEDOUT' ? 'timed out' : error.message;
  return new CliError(`cannot reach the cluster at ${where}: ${reason}`, {
    hint: 'Is the cluster running and is this the right context? Check with `sympozium doctor`, or `kubectl config get-contexts`. For a local one: `sympozium dev up`.',
    cause: error,
  });
}
