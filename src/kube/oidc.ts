import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { isAbsolute, join, dirname } from 'node:path';
import { CliError } from '../errors.js';
import type { ResolvedKubeConfig } from './config.js';

/**
 * The kubeconfig `auth-provider: oidc`, as client-go's plugin/pkg/client/auth/oidc/oidc.go does it: the id-token
 * while it is valid (exp more than 10 s away); once expired, a refresh-token grant at the token endpoint the
 * issuer's discovery document names, and the new tokens written back to the kubeconfig file the user came from
 * (kubectl's persister does so: many issuers rotate the refresh token, and an old one would then fail next time).
 * Our own because @kubernetes/client-node 1.4's refresh never works: it hands openid-client 6 a string where a
 * URL is required ("server" must be an instance of URL). Loaded only for an oidc user.
 */

const expiryDeltaMs = 10_000;

export async function oidcToken(config: ResolvedKubeConfig): Promise<string> {
  const settings = config.authProvider?.config ?? {};
  const prefix = `could not get credentials for context "${config.contextName}"`;
  const issuer = settings['idp-issuer-url'];
  const clientId = settings['client-id'];
  const fix = `Fix the auth-provider of user "${config.userName}" in the kubeconfig, or log in again with your OIDC login tool.`;
  if (!issuer) throw new CliError(`${prefix}: Must provide idp-issuer-url (auth-provider oidc of user "${config.userName}")`, { hint: fix });
  if (!clientId) throw new CliError(`${prefix}: Must provide client-id (auth-provider oidc of user "${config.userName}")`, { hint: fix });
  const idToken = settings['id-token'];
  if (idToken && !expired(idToken)) return idToken;
  const refreshToken = settings['refresh-token'];
  if (!refreshToken) {
    throw new CliError(`${prefix}: No valid id-token, and cannot refresh without refresh-token (auth-provider oidc of user "${config.userName}")`, {
      hint: 'Log in again with your OIDC login tool (e.g. `kubectl oidc-login`) to get a fresh id-token.',
    });
  }
  const failed = (why: string) =>
    new CliError(`${prefix}: the OIDC id-token of user "${config.userName}" has expired and refreshing it at the issuer ${issuer} failed: ${why}`, {
      hint: `Check that ${issuer} is reachable from here (VPN? proxy?), or log in again with your OIDC login tool to get a fresh id-token.`,
    });
  const ca = issuerCa(settings, config);
  let tokenEndpoint: string;
  try {
    const discovery = await call(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`, { ca });
    if (discovery.status !== 200) throw new Error(`its discovery document answered HTTP ${discovery.status}`);
    tokenEndpoint = String((JSON.parse(discovery.body) as { token_endpoint?: unknown }).token_endpoint ?? '');
    if (!tokenEndpoint) throw new Error('its discovery document names no token_endpoint');
  } catch (error) {
    throw failed(describe(error));
  }
  const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken });
  const secret = settings['client-secret'];
  const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' };
  // oauth2's header style (client_secret_basic) when there is a secret; a public client sends its id in the form.
  if (secret) headers.Authorization = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
  else form.set('client_id', clientId);
  let reply: { id_token?: unknown; refresh_token?: unknown; error?: unknown; error_description?: unknown };
  try {
    const response = await call(tokenEndpoint, { ca, method: 'POST', headers, body: form.toString() });
    reply = JSON.parse(response.body || '{}') as typeof reply;
    if (response.status !== 200) {
      // The OAuth error code and description, never the body as a whole (it could echo a token).
      throw new Error(`the token endpoint answered HTTP ${response.status}${reply.error ? ` (${String(reply.error)}${reply.error_description ? `: ${String(reply.error_description)}` : ''})` : ''}`);
    }
  } catch (error) {
    throw failed(describe(error));
  }
  if (typeof reply.id_token !== 'string' || !reply.id_token) throw failed('token response did not contain an id_token');
  const updates: Record<string, string> = { 'id-token': reply.id_token };
  if (typeof reply.refresh_token === 'string' && reply.refresh_token) updates['refresh-token'] = reply.refresh_token;
  if (config.authProvider?.file) {
    const { persistAuthProviderConfig } = await import('./kubeconfig-edit.js');
    await persistAuthProviderConfig(config.authProvider.file, config.userName, updates);
  }
  return reply.id_token;
}

/** client-go's idTokenExpired: the JWT's exp, with a 10 s margin; a token that is not a JWT counts as expired. */
function expired(idToken: string): boolean {
  try {
    const payload = JSON.parse(Buffer.from(idToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp !== 'number' || payload.exp * 1000 <= Date.now() + expiryDeltaMs;
  } catch {
    return true;
  }
}

function issuerCa(settings: Record<string, string>, config: ResolvedKubeConfig): Buffer | undefined {
  if (settings['idp-certificate-authority-data']) return Buffer.from(settings['idp-certificate-authority-data'], 'base64');
  const file = settings['idp-certificate-authority'];
  if (!file) return undefined;
  const path = isAbsolute(file) || !config.authProvider?.file ? file : join(dirname(config.authProvider.file), file);
  try {
    return readFileSync(path);
  } catch {
    throw new CliError(`kubeconfig refers to ${path} (idp-certificate-authority), which cannot be read`, { hint: 'Fix the path in the kubeconfig.' });
  }
}

function call(url: string, options: { ca?: Buffer; method?: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const transport = url.startsWith('https:') ? https : http;
    const request = transport.request(url, { method: options.method ?? 'GET', headers: options.headers, ca: options.ca, timeout: 30_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer from ${new URL(url).host} within 30s`)));
    request.on('error', reject);
    request.end(options.body);
  });
}

function describe(error: unknown): string {
  const { message, code } = error as NodeJS.ErrnoException;
  return code && !message.includes(code) ? `${message} (${code})` : message;
}
