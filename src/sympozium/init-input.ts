import { usageError } from '../errors.js';
import { channelTypes, secretKeys, type ChannelType, type Provider, type SkillAnswer } from './scaffold.js';

/**
 * The checks and parsers behind init's flags and answers. A bad flag value is a usage error naming the flag;
 * the check functions double as inquirer validators, so a terminal user sees the same rule.
 */

export const namespacePattern = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Instance names become parts of other names (<name>-web-endpoint-server is a Service: 63 characters at most). */
export function checkName(value: string): true | string {
  if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(value)) return 'must be lowercase letters, digits and "-", starting with a letter and ending with a letter or digit';
  if (value.length > 37) return 'must be at most 37 characters (the web endpoint Service name adds 26)';
  return true;
}
export const checkObjectName = (value: string): true | string =>
  subdomain.test(value) && value.length <= 253 ? true : 'must be a Kubernetes name: lowercase letters, digits, "-" and "."';
export const checkUrl = (value: string): true | string => {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? true : 'must be an http:// or https:// URL';
  } catch {
    return 'must be an http:// or https:// URL, e.g. http://ollama:11434/v1';
  }
};
export const checkNotEmpty = (value: string): true | string => (value.trim() ? true : 'must not be empty');

/** Applies a check to a flag's value: a bad flag is a usage error naming the flag. */
export function flag<T extends string | undefined>(name: string, value: T, check: (value: string) => true | string): T {
  if (value === undefined) return value;
  const verdict = check(value);
  if (verdict !== true) throw usageError(`${name} "${value}" is not valid: ${verdict}`, 'See `sympozium init --help` for every flag and an example of each.');
  return value;
}

/** `--skill ref[:k=v,k2=v2]`. */
export function parseSkillFlag(value: string): SkillAnswer {
  const colon = value.indexOf(':');
  const ref = colon < 0 ? value : value.slice(0, colon);
  if (!subdomain.test(ref)) throw usageError(`--skill "${value}": "${ref}" is not a SkillPack name`, 'Use --skill <name>[:key=value,...], e.g. --skill k8s-ops:CLUSTER=prod.');
  const params: Record<string, string> = {};
  if (colon >= 0) {
    for (const part of value.slice(colon + 1).split(',')) {
      const equals = part.indexOf('=');
      if (equals <= 0) throw usageError(`--skill "${value}": "${part}" is not key=value`, 'Use --skill <name>[:key=value,...], e.g. --skill k8s-ops:CLUSTER=prod.');
      params[part.slice(0, equals).trim()] = part.slice(equals + 1);
    }
  }
  return { ref, params };
}

/** `--channel type:secret`. */
export function parseChannelFlag(value: string): { type: ChannelType; secret: string } {
  const [type, secret, ...rest] = value.split(':');
  if (!type || !(channelTypes as readonly string[]).includes(type) || !secret || rest.length > 0) {
    throw usageError(`--channel "${value}" is not <type>:<secret>`, `Types: ${channelTypes.join(', ')}; e.g. --channel telegram:telegram-creds.`);
  }
  flag('--channel secret', secret, checkObjectName);
  return { type: type as ChannelType, secret };
}

/**
 * The provider key(s) from the environment: `--api-key-env VAR` for a one-key provider, or `KEY=VAR` pairs;
 * Bedrock's other keys come from the variables of their own names.
 */
/** What a shell accepts as a variable name (POSIX: letters, digits and _, not starting with a digit). */
const variableName = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function readKeys(provider: Provider, spec: string, env: NodeJS.ProcessEnv): Record<string, string> {
  const keys = secretKeys(provider);
  const sources = new Map<string, string>();
  for (const item of spec.split(',').map((part) => part.trim()).filter(Boolean)) {
    const [key, variable] = item.includes('=') ? item.split('=', 2) as [string, string] : [keys.includes(item) || keys.length !== 1 ? item : keys[0]!, item];
    // A value pasted where the name belongs (--api-key-env "$OPENAI_API_KEY") is the key itself: never echo it.
    if (!variableName.test(variable) || !variableName.test(key)) {
      throw usageError('--api-key-env takes the name of an environment variable, not its value', `For example: --api-key-env ${keys[0]}${keys.length > 1 ? ` (or KEY=VARIABLE pairs: ${keys.map((k) => `${k}=MY_${k}`).join(',')})` : ''}.`);
    }
    if (!keys.includes(key)) {
      throw usageError(`--api-key-env: ${provider} keeps no ${key} in its Secret`, `Its keys are ${keys.join(', ')}; name them as KEY=VARIABLE.`);
    }
    sources.set(key, variable);
  }
  const values: Record<string, string> = {};
  for (const key of keys) {
    const variable = sources.get(key) ?? key;
    const value = env[variable];
    if (!value) {
      throw usageError(`environment variable ${variable} is not set`, `Export it first (export ${variable}=...), or drop --api-key-env to write a placeholder instead.`);
    }
    values[key] = value;
  }
  return values;
}
