/**
 * Masks what looks like a credential in text the server wrote (a run's error, an event, a log line): a
 * provider's error often echoes the key it was given ("Incorrect API key provided: sk-proj-…"), and that
 * text reaches `runs get`, `runs tail` and `chat` output. Known values (the key the command itself holds)
 * are masked wherever they appear; the patterns catch the shapes providers use. Results the user asked for
 * (`key show --reveal`, the agent's answer) are never passed through here.
 */

/** Masks a secret as `sk-…abcd`: enough to tell two keys apart, never enough to use one. */
export function maskSecret(value: string): string {
  if (value.length <= 8) return '…'.padStart(Math.min(value.length, 4), '*');
  const prefix = value.startsWith('sk-') ? 'sk-' : '';
  return `${prefix}…${value.slice(-4)}`;
}

const patterns: RegExp[] = [
  // OpenAI and Anthropic style keys: sk-…, sk-proj-…, sk-ant-api03-…
  /\bsk-[A-Za-z0-9_-]{12,}/g,
  // AWS access key ids.
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
  // Google API keys.
  /\bAIza[0-9A-Za-z_-]{30,}/g,
];
const bearer = /\b(Bearer\s+)([A-Za-z0-9._~+/=-]{8,})/gi;

export function redactSecrets(text: string, known: Iterable<string | undefined> = []): string {
  let result = text;
  for (const value of known) {
    // Short values would mask ordinary words; a real key is long.
    if (value && value.length >= 8) result = result.split(value).join(maskSecret(value));
  }
  for (const pattern of patterns) result = result.replace(pattern, (match) => maskSecret(match));
  return result.replace(bearer, (_match, prefix: string, token: string) => `${prefix}${maskSecret(token)}`);
}

/** A copy of an object whose `status.error` (and `status.message`) is redacted, for printing whole objects. */
export function redactStatus<T extends { status?: { error?: string; message?: string } }>(object: T, known: Iterable<string | undefined> = []): T {
  const status = object.status;
  if (!status || (status.error === undefined && status.message === undefined)) return object;
  const known_ = [...known];
  return {
    ...object,
    status: {
      ...status,
      ...(status.error !== undefined ? { error: redactSecrets(status.error, known_) } : {}),
      ...(status.message !== undefined ? { message: redactSecrets(status.message, known_) } : {}),
    },
  };
}
