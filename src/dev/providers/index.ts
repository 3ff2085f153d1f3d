import { providerKeyEnv, type SympoziumInstance } from '../../sympozium/types.js';
import { EchoProvider } from './echo.js';
import { OpenAiCompatibleProvider } from './openai-compatible.js';
import type { AgentProvider } from './types.js';

export type { AgentProvider } from './types.js';
export { echoPrefix, hangMarker } from './echo.js';

/** Reads one decoded value of a Secret; returns undefined when the Secret or key is missing. */
export type SecretReader = (namespace: string, name: string) => Record<string, string> | undefined;

class ProviderConfigError extends Error {}

/**
 * Chooses the model provider for a run of an instance. A real OpenAI-compatible endpoint is used only when the
 * instance names one with `agents.default.baseURL`; everything else gets the offline echo model, so the local
 * control plane never calls a paid API by surprise. The key comes from the instance's authRefs Secret (the
 * provider's environment variable name, else any single value); a keyless endpoint (Ollama) needs none.
 */
export function chooseProvider(instance: SympoziumInstance, readSecret: SecretReader, echoChunkDelayMs: number): AgentProvider {
  const baseURL = instance.spec.agents?.default?.baseURL;
  if (!baseURL) return new EchoProvider(echoChunkDelayMs);
  const namespace = instance.metadata.namespace ?? 'default';
  let apiKey: string | undefined;
  for (const ref of instance.spec.authRefs ?? []) {
    const data = readSecret(namespace, ref.secret);
    if (!data) throw new ProviderConfigError(`Secret "${ref.secret}" named in spec.authRefs does not exist in namespace ${namespace}`);
    const wanted = [...(providerKeyEnv[ref.provider ?? ''] ?? []), 'OPENAI_API_KEY', 'API_KEY', 'api-key'];
    apiKey = wanted.map((key) => data[key]).find((value) => value !== undefined) ?? (Object.keys(data).length === 1 ? Object.values(data)[0] : undefined);
    if (apiKey) break;
  }
  return new OpenAiCompatibleProvider(baseURL, apiKey);
}
