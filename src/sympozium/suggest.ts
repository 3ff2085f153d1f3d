import type { Schema } from './schema-builders.js';

/**
 * "Did you mean" for unknown fields and values. The field a user meant is often not a sibling of the one they
 * wrote: upstream's own examples say `channels[].secretRef` for `configRef.secret` and `agents.sandbox` for
 * `agents.default.sandbox`. So candidates come from the whole subtree below the object, not only its direct
 * properties, and a nearer candidate wins over a deeper one that is equally close.
 */

export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  // Long strings cannot be a typo of a field name; skip the quadratic work.
  if (Math.abs(a.length - b.length) > 8 || a.length > 64 || b.length > 64) return Math.max(a.length, b.length);
  // Levenshtein plus swapped neighbours (optimal string alignment): `modle` for `model` is one slip, not two.
  let beforePrevious: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) current[j] = Math.min(current[j]!, beforePrevious[j - 2]! + 1);
    }
    beforePrevious = previous;
    previous = current;
  }
  return previous[b.length]!;
}

/** How close two names are, or undefined when they are not worth suggesting. Lower is closer. */
export function closeness(written: string, candidate: string): number | undefined {
  const a = written.toLowerCase();
  const b = candidate.toLowerCase();
  if (a === b) return 0;
  const distance = editDistance(a, b);
  if (distance <= Math.max(1, Math.floor(Math.max(a.length, b.length) / 3))) return distance;
  // secretName for secret, secretRef for secret: a known name with a suffix (or the reverse).
  const [shorter, longer] = a.length < b.length ? [a, b] : [b, a];
  if (shorter.length >= 4 && longer.startsWith(shorter)) return 1.5;
  return undefined;
}

/** Mistakes common enough in upstream's examples to name explicitly, keyed by the field's path pattern. */
const knownMistakes: Record<string, string> = {
  'spec.skills[].name': 'skillPackRef',
  'spec.skills[].ref': 'skillPackRef',
  'spec.skills[].skillPack': 'skillPackRef',
  'spec.channels[].secret': 'configRef.secret',
  'spec.authRefs[].name': 'secret',
  'spec.model': 'agents.default.model',
  'spec.policy': 'policyRef',
  'spec.webEndpoint.rpm': 'rateLimit.requestsPerMinute',
  'spec.webEndpoint.burst': 'rateLimit.burstSize',
};

interface Candidate {
  path: string;
  leaf: string;
  depth: number;
}

function candidates(schema: Schema, prefix: string, depth: number, into: Candidate[], maxDepth = 3): Candidate[] {
  if (depth > maxDepth) return into;
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    const path = prefix ? `${prefix}.${name}` : name;
    into.push({ path, leaf: name, depth });
    candidates(child, path, depth + 1, into, maxDepth);
    if (child.items?.properties) candidates(child.items, `${path}[]`, depth + 1, into, maxDepth);
  }
  return into;
}

/**
 * The field the user probably meant, as a path relative to the object holding the unknown field.
 * `pattern` is the unknown field's own path with list indices as [] (spec.skills[].name).
 */
export function suggestField(written: string, parent: Schema, pattern: string): string | undefined {
  const known = knownMistakes[pattern];
  if (known) return known;
  let best: { path: string; score: number } | undefined;
  for (const candidate of candidates(parent, '', 0, [])) {
    const score = closeness(written, candidate.leaf);
    if (score === undefined) continue;
    const total = score + candidate.depth * 0.5;
    if (!best || total < best.score) best = { path: candidate.path, score: total };
  }
  return best?.path;
}

const placements = new WeakMap<Schema, Candidate[]>();

/**
 * Where in the whole document a field of this exact name lives, when it was written at the wrong level: an
 * absolute path such as spec.policyRef. Only exact names (any case) count: a near miss far away is noise.
 */
export function suggestPlacement(written: string, root: Schema, here: string): string | undefined {
  let all = placements.get(root);
  if (!all) placements.set(root, (all = candidates(root, '', 0, [], 6)));
  const matches = all.filter((candidate) => candidate.leaf.toLowerCase() === written.toLowerCase());
  const elsewhere = matches.filter((candidate) => !candidate.path.startsWith(`${here.replace(/\[\d+\]/g, '[]')}.`));
  if (elsewhere.length === 0) return undefined;
  return elsewhere.sort((a, b) => a.depth - b.depth)[0]!.path;
}

/** The closest allowed value, for enums. */
export function suggestValue(written: string, allowed: readonly string[]): string | undefined {
  let best: { value: string; score: number } | undefined;
  for (const value of allowed) {
    const score = closeness(written, value);
    if (score !== undefined && (!best || score < best.score)) best = { value, score };
  }
  return best?.value;
}
