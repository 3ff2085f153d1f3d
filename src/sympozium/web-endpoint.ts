import {
  legacyWebEndpointSkill,
  webEndpointParams,
  webEndpointSkill,
  type SkillRef,
  type SympoziumInstance,
} from './types.js';

/**
 * The web endpoint's state on an instance, and the pure edits `enable`/`disable web-endpoint` make to
 * spec.skills. Because a JSON merge patch replaces a whole list, callers apply these inside a
 * read-modify-write guarded by resourceVersion (kube/retry.ts), so other skills are never clobbered.
 */

export function isWebEndpointSkill(skill: SkillRef | undefined): boolean {
  return skill?.skillPackRef === webEndpointSkill || skill?.skillPackRef === legacyWebEndpointSkill;
}

export function findWebEndpointSkill(instance: Pick<SympoziumInstance, 'spec'>): SkillRef | undefined {
  return (instance.spec?.skills ?? []).find(isWebEndpointSkill);
}

/** Enabled through the skill (upstream) or the deprecated spec.webEndpoint.enabled (seed). */
export function webEndpointEnabled(instance: Pick<SympoziumInstance, 'spec'>): boolean {
  return Boolean(findWebEndpointSkill(instance)) || instance.spec?.webEndpoint?.enabled === true;
}

export interface WebEndpointSettings {
  rpm?: number;
  burst?: number;
  hostname?: string;
  authSecret?: string;
}

/** The params the flags ask for; absent flags leave existing params as they are. */
export function settingsToParams(settings: WebEndpointSettings): Record<string, string> {
  const params: Record<string, string> = {};
  if (settings.rpm !== undefined) params[webEndpointParams.rpm] = String(settings.rpm);
  if (settings.burst !== undefined) params[webEndpointParams.burst] = String(settings.burst);
  if (settings.hostname !== undefined) params[webEndpointParams.hostname] = settings.hostname;
  if (settings.authSecret !== undefined) params[webEndpointParams.authSecretRef] = settings.authSecret;
  return params;
}

/**
 * spec.skills with the web-endpoint skill present and carrying `params`. Returns undefined when nothing
 * would change, so enabling twice sends nothing the second time.
 */
export function withWebEndpointSkill(skills: SkillRef[] | undefined, params: Record<string, string>): SkillRef[] | undefined {
  const current = skills ?? [];
  const index = current.findIndex(isWebEndpointSkill);
  if (index < 0) {
    const skill: SkillRef = { skillPackRef: webEndpointSkill };
    if (Object.keys(params).length > 0) skill.params = { ...params };
    return [...current, skill];
  }
  const existing = current[index]!;
  const merged = { ...(existing.params ?? {}), ...params };
  const unchanged = Object.entries(params).every(([key, value]) => existing.params?.[key] === value);
  if (unchanged) return undefined;
  const next = [...current];
  next[index] = { ...existing, params: merged };
  return next;
}

/** spec.skills without any web-endpoint skill, or undefined when there was none. */
export function withoutWebEndpointSkill(skills: SkillRef[] | undefined): SkillRef[] | undefined {
  const current = skills ?? [];
  if (!current.some(isWebEndpointSkill)) return undefined;
  return current.filter((skill) => !isWebEndpointSkill(skill));
}

/** The Secret the user pointed the proxy at, if any: the skill param, else the deprecated spec field. */
export function configuredAuthSecret(instance: Pick<SympoziumInstance, 'spec'>): { name: string; source: string } | undefined {
  const param = findWebEndpointSkill(instance)?.params?.[webEndpointParams.authSecretRef];
  if (param) return { name: param, source: `the web-endpoint skill's ${webEndpointParams.authSecretRef} param` };
  const deprecated = instance.spec?.webEndpoint?.authSecretRef;
  if (deprecated) return { name: deprecated, source: 'spec.webEndpoint.authSecretRef' };
  return undefined;
}

/** The rate limit the web-endpoint skill sets (its rate_limit_rpm param), when it sets one. */
export function rateLimitRpm(instance: Pick<SympoziumInstance, 'spec'> | undefined): number | undefined {
  const value = Number(instance && findWebEndpointSkill(instance)?.params?.[webEndpointParams.rpm]);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}
