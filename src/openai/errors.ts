import { CliError, ExitCode } from '../errors.js';
import type { ErrorBody } from './types.js';

/**
 * Error replies and socket failures of a web endpoint, turned into messages that say what happened and what
 * to do. Never includes the API key: callers describe where the key came from, not what it is.
 */

export interface EndpointDescription {
  instance: string;
  baseUrl: string;
  via: 'flag' | 'status' | 'httproute' | 'port-forward';
  /** Where the key came from, for the 401 hint: "--key", "$SYMPOZIUM_API_KEY", "Secret demo-web-endpoint-key". */
  keySource?: string;
  /** The -n flag to repeat in hints, when it is not the default namespace. */
  namespaceFlag?: string;
}

export class EndpointError extends CliError {
  /** The HTTP status, when the endpoint answered at all. */
  readonly status?: number;
  /** The server's own message from the error body. */
  readonly serverMessage?: string;
  /** Milliseconds the server asked us to wait (Retry-After). */
  readonly retryAfterMs?: number;
  /** Set for an `agent_error` event inside a stream: the agent run failed after the answer began. */
  readonly agentError?: boolean;

  constructor(
    message: string,
    options: { hint?: string; status?: number; serverMessage?: string; retryAfterMs?: number; agentError?: boolean; cause?: unknown },
  ) {
    super(message, { hint: options.hint, exitCode: ExitCode.failed, cause: options.cause });
    this.name = 'EndpointError';
    this.status = options.status;
    this.serverMessage = options.serverMessage;
    this.retryAfterMs = options.retryAfterMs;
    this.agentError = options.agentError;
  }
}

/** The `error.message` of an OpenAI-style error body, else the body itself, shortened. */
export function serverMessageOf(body: string): string | undefined {
  const trimmed = body.trim();
  if (!trimmed) return undefined;
  try {
    const parsed = JSON.parse(trimmed) as ErrorBody;
    if (parsed?.error?.message) return parsed.error.message;
  } catch {
    // Not JSON: a gateway's HTML or plain text page.
  }
  const text = trimmed.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
  return text.length > 200 ? `${text.slice(0, 200)}…` : text || undefined;
}

/** A command to run next, quoted whole (with any extra flags inside the backticks). */
const cmd = (endpoint: EndpointDescription, command: string, flags = '') =>
  `\`sympozium ${command} ${endpoint.instance}${endpoint.namespaceFlag ? ` -n ${endpoint.namespaceFlag}` : ''}${flags ? ` ${flags}` : ''}\``;

export function httpError(status: number, body: string, endpoint: EndpointDescription, what: string, retryAfterMs?: number): EndpointError {
  const serverMessage = serverMessageOf(body);
  const said = serverMessage ? `: ${serverMessage}` : '';
  const options = { status, serverMessage, retryAfterMs };
  switch (status) {
    case 400:
      return new EndpointError(`the web endpoint refused the request as invalid (400)${said}`, {
        ...options,
        hint: 'The endpoint needs at least one user message with text content.',
      });
    case 401:
      return new EndpointError(`the web endpoint at ${endpoint.baseUrl} rejected the API key (401 Unauthorized)`, {
        ...options,
        hint:
          `The key${endpoint.keySource ? ` from ${endpoint.keySource}` : ''} is wrong or was rotated. ` +
          `See the right one with ${cmd(endpoint, 'key show', '--reveal')}, then pass it with --key or SYMPOZIUM_API_KEY (or drop both to let sympozium read it from the cluster).`,
      });
    case 403:
      return new EndpointError(`the web endpoint at ${endpoint.baseUrl} refused access (403)${said}`, {
        ...options,
        hint: 'A gateway or policy in front of the endpoint blocks this client; check with whoever runs it.',
      });
    case 404:
      return new EndpointError(`there is no web endpoint at ${endpoint.baseUrl} (404 for ${what})`, {
        ...options,
        hint:
          endpoint.via === 'flag'
            ? `Check --url (the base address, e.g. https://demo.example.com). If it is right, the web endpoint is not enabled or not ready: ${cmd(endpoint, 'enable web-endpoint')}.`
            : `The web endpoint of ${endpoint.instance} is not enabled or not ready yet: ${cmd(endpoint, 'enable web-endpoint')} enables it and waits until it answers.`,
      });
    case 429:
      return new EndpointError(`the web endpoint is rate limiting requests (429), and kept doing so after several tries`, {
        ...options,
        hint: `The limit is per proxy, shared by every client. Wait a minute, or raise it with ${cmd(endpoint, 'enable web-endpoint', '--rpm <n> --burst <n>')}.`,
      });
    case 500:
      return new EndpointError(serverMessage ? `the web endpoint reports a failure (500): ${serverMessage}` : 'the agent run failed (500)', {
        ...options,
        hint: `See what happened with \`sympozium runs list --instance ${endpoint.instance}\` and \`sympozium runs get <run>\`.`,
      });
    case 502:
    case 503:
      return new EndpointError(`the web endpoint is unavailable (${status})${said}, even after several tries`, {
        ...options,
        hint: `The proxy may be restarting (a key rotation restarts it). Check ${cmd(endpoint, 'instances describe')}.`,
      });
    case 504:
      return new EndpointError(`the agent did not answer in time (504 Gateway Timeout)${said}`, {
        ...options,
        hint:
          'The agent run timed out (upstream stops a run after 10 minutes) or a gateway gave up first. ' +
          `Look at the run with \`sympozium runs list --instance ${endpoint.instance}\`; a shorter task or a faster model helps.`,
      });
    default:
      return new EndpointError(`the web endpoint answered ${status}${said}`, options);
  }
}

export function connectionFailure(error: unknown, endpoint: EndpointDescription, code: string | undefined): EndpointError {
  const reason =
    code === 'ECONNREFUSED'
      ? 'connection refused'
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? 'host not found'
        : code === 'ECONNRESET'
          ? 'the connection was reset'
          : (error as Error)?.message ?? String(error);
  const hint = {
    flag: 'Check --url, and that the endpoint is reachable from this machine (VPN, DNS, firewall).',
    status: `The instance's status names this URL; if it is not reachable from here, pass --url with an address that is.`,
    httproute: `The HTTPRoute's hostname may not resolve or be reachable from here; pass --url with an address that is.`,
    'port-forward': `The port-forward to the proxy pod could not connect: check the pod with ${cmd(endpoint, 'instances describe')}.`,
  }[endpoint.via];
  return new EndpointError(`cannot reach the web endpoint at ${endpoint.baseUrl}: ${reason}`, { hint, cause: error });
}
