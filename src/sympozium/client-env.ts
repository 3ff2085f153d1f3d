/**
 * What another OpenAI or MCP client needs to reach an instance: the variables the `openai` SDKs read
 * (OPENAI_BASE_URL, OPENAI_API_KEY) plus the model id, and an `mcpServers` entry in the shape Claude Code,
 * Claude Desktop and Cursor read. `env` prints them for the endpoint itself, `proxy` for its local address.
 */

/** What local clients send to a `sympozium proxy` without --local-key: the SDKs want some key, the proxy replaces it. */
export const proxyPlaceholderKey = 'sympozium-proxy';

/** The proxy's default address, which `env` shows when there is no public URL. */
export const defaultProxyPort = 8080;
export const defaultProxyAddress = '127.0.0.1';

export function clientVars(baseUrl: string, apiKey: string, model: string | undefined): Record<string, string> {
  return { OPENAI_BASE_URL: `${baseUrl}/v1`, OPENAI_API_KEY: apiKey, ...(model ? { OPENAI_MODEL: model } : {}) };
}

/** An `mcpServers` entry for the endpoint's HTTP+SSE transport; without a key (a local proxy adds it), no headers. */
export function mcpServersSnippet(instance: string, baseUrl: string, apiKey: string | undefined): { mcpServers: Record<string, unknown> } {
  return {
    mcpServers: {
      [`sympozium-${instance}`]: {
        type: 'sse',
        url: `${baseUrl}/sse`,
        ...(apiKey === undefined ? {} : { headers: { Authorization: `Bearer ${apiKey}` } }),
      },
    },
  };
}

/** The base URL a proxy listening on `address:port` serves, with IPv6 addresses bracketed. */
export function proxyBaseUrl(address: string, port: number): string {
  const host = address.includes(':') ? `[${address}]` : address;
  return `http://${host}:${port}`;
}
