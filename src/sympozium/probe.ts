/**
 * Small HTTP probes of a web endpoint, used to prove that it serves (enable) and that a rotated key is in
 * effect (key rotate). Each probe is one bounded request; callers decide how long to keep trying.
 */

export interface ProbeResult {
  ok: boolean;
  /** HTTP status, or 0 when the request did not get an answer. */
  status: number;
  detail: string;
}

const probeTimeoutMs = 5000;

async function request(url: string, init: RequestInit, signal?: AbortSignal): Promise<ProbeResult> {
  const timeout = AbortSignal.timeout(probeTimeoutMs);
  try {
    const response = await fetch(url, { ...init, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    const body = (await response.text()).slice(0, 200).trim();
    return { ok: response.ok, status: response.status, detail: body };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { ok: false, status: 0, detail: cause?.code ?? cause?.message ?? (error as Error).message };
  }
}

/** GET /healthz, the one path upstream's proxy answers without a key. */
export function probeHealth(baseUrl: string, signal?: AbortSignal): Promise<ProbeResult> {
  // Only /healthz: upstream's proxy serves it without the key, while /health sits behind auth, so a
  // fallback there would turn "not healthy" into a misleading 401 (internal/webproxy/proxy.go).
  return request(`${baseUrl}/healthz`, { method: 'GET' }, signal);
}

/** GET /v1/models with a key: 200 when the proxy accepts it, 401 when it refuses it. */
export function probeKey(baseUrl: string, key: string, signal?: AbortSignal): Promise<ProbeResult> {
  return request(`${baseUrl}/v1/models`, { method: 'GET', headers: { Authorization: `Bearer ${key}` } }, signal);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
