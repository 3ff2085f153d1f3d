import { readFileSync } from 'node:fs';
import { CliError } from '../errors.js';
import type { ResolvedKubeConfig } from './config.js';

/**
 * Who a request to the API server says it is: the Authorization header (a token, a token file read afresh, an
 * exec plugin's token, an auth provider's header, or basic auth) and client-go's impersonation headers. One
 * function for plain requests and port-forward's WebSockets alike, so both carry the same identity.
 */

export interface IdentitySources {
  /** https: over plain http kubectl sends no credentials (e.g. to `kubectl proxy`, which adds its own). */
  secure: boolean;
  /** What an auth provider produced (oidc.ts via credentials.ts); its Authorization wins over the kubeconfig's token. */
  providerHeaders: Record<string, string>;
  /** The exec plugin's token, when it returned one. */
  execToken?: string;
}

export function identityHeaders(config: ResolvedKubeConfig, sources: IdentitySources): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = { ...sources.providerHeaders };
  addImpersonation(config, headers);
  if (!sources.secure) {
    delete headers.Authorization;
    return headers;
  }
  const token = sources.execToken ?? (sources.providerHeaders.Authorization ? undefined : staticToken(config));
  if (token) headers.Authorization = `Bearer ${token}`;
  else if (!headers.Authorization && config.username !== undefined && config.password !== undefined) {
    headers.Authorization = `Basic ${Buffer.from(`${config.username}:${config.password}`).toString('base64')}`;
  }
  return headers;
}

/** The kubeconfig's own token: `token`, else `tokenFile` read on every request (kubectl re-reads it: rotated projected tokens). */
function staticToken(config: ResolvedKubeConfig): string | undefined {
  if (config.token) return config.token;
  if (!config.tokenFile) return undefined;
  try {
    return readFileSync(config.tokenFile, 'utf8').trim();
  } catch {
    throw new CliError(`cannot read the token file ${config.tokenFile} named by the kubeconfig`, { hint: 'Fix the path, or log in again.' });
  }
}

/** client-go's impersonation headers; extra keys are percent-encoded as kubectl does. */
function addImpersonation(config: ResolvedKubeConfig, headers: Record<string, string | string[]>): void {
  const as = config.impersonate;
  if (!as?.user) return;
  headers['Impersonate-User'] = as.user;
  if (as.uid) headers['Impersonate-Uid'] = as.uid;
  if (as.groups.length > 0) headers['Impersonate-Group'] = as.groups;
  for (const [key, values] of Object.entries(as.extra)) headers[`Impersonate-Extra-${encodeExtraKey(key)}`] = values;
}

/** Go's url.PathEscape for header names: keep RFC 7230 token characters that are also unreserved, escape the rest. */
function encodeExtraKey(key: string): string {
  return [...Buffer.from(key, 'utf8')]
    .map((byte) => {
      const char = String.fromCharCode(byte);
      return /[A-Za-z0-9!#$&'*+\-.^_`|~]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}
