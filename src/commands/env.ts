import type { Context } from '../context.js';
import type { EndpointOptions } from '../chat/connect.js';
import { clientVars, defaultProxyAddress, defaultProxyPort, mcpServersSnippet, proxyBaseUrl, proxyPlaceholderKey } from '../sympozium/client-env.js';
import { maskSecret } from '../sympozium/secrets.js';
import { renderEnv, type EnvFormat } from '../ui/env-vars.js';

export interface EnvOptions extends EndpointOptions {
  reveal: boolean;
  /** undefined: shell, masked (for reading); -o json counts as --format json. */
  format?: EnvFormat;
  mcp: boolean;
  /** The port `sympozium proxy` would listen on, for the lines shown when there is no public URL. */
  port?: number;
}

/**
 * `sympozium env <instance>`: OPENAI_BASE_URL, OPENAI_API_KEY and the model for other clients, or with --mcp
 * an `mcpServers` entry. The key is real only when asked for: --reveal, or a format meant for a program
 * (dotenv, json, fish, powershell, -o json); the default shell lines mask it, since they are also what a
 * person reads. Without a public address nothing is opened: the lines are those `sympozium proxy` serves.
 */
export async function env(options: EnvOptions, ctx: Context): Promise<void> {
  const format: EnvFormat = options.format ?? (ctx.out.format === 'json' ? 'json' : 'shell');
  const reveal = options.reveal || format !== 'shell';
  const { locateEndpoint } = await import('../sympozium/endpoint.js');
  const located = await locateEndpoint(ctx, options.instance, { url: options.url, namespace: ctx.globals.namespace, allowHttp: options.allowHttp });
  const model = located.instance?.spec?.agents?.default?.model;

  let baseUrl: string;
  let apiKey: string | undefined;
  let masked = false;
  if (located.baseUrl !== undefined) {
    const { findEndpointKey } = await import('../chat/connect.js');
    const found = await findEndpointKey(ctx, options, located.namespace, located.instance);
    ctx.out.debug(`API key: from ${found.keySource}`);
    baseUrl = located.baseUrl;
    apiKey = reveal ? found.apiKey : maskSecret(found.apiKey);
    masked = !reveal;
  } else {
    baseUrl = proxyBaseUrl(defaultProxyAddress, options.port ?? defaultProxyPort);
    const ns = ctx.globals.namespace ? ` -n ${ctx.globals.namespace}` : '';
    ctx.out.info(
      `${options.instance} has no public URL (it is reached through service ${located.service}): these lines are what \`sympozium proxy ${options.instance}${ns}${options.port ? ` --port ${options.port}` : ''}\` serves, with the key added by the proxy. Start it first; for MCP clients, \`sympozium mcp ${options.instance}${ns} serve --stdio\` needs no proxy.`,
    );
  }

  if (options.mcp) {
    const snippet = mcpServersSnippet(options.instance, baseUrl, apiKey);
    ctx.out.result(JSON.stringify(snippet, null, 2));
  } else {
    ctx.out.write(renderEnv(clientVars(baseUrl, apiKey ?? proxyPlaceholderKey, model), format));
  }
  if (masked) ctx.out.hint(`The key is masked: pass --reveal (eval "$(sympozium env ${options.instance} --reveal)") or --format dotenv|json|fish|powershell for the real value.`);
}
