/**
 * In-process fault injection for tests: a rule matches requests by method, path and watch-ness and then answers
 * with an error Status, delays the request, cuts a watch short or expires the next watch with a 410. Off by
 * default; also reachable over HTTP at `/__emulator/faults` for out-of-process tests.
 */

export interface FaultRule {
  method?: string;
  /** A path prefix, or a RegExp tested against the path. */
  path: string | RegExp;
  /** Only watch requests (true) or only non-watch requests (false); both when absent. */
  watch?: boolean;
  /** Only dry-run writes (true) or only real ones (false); both when absent. */
  dryRun?: boolean;
  respond?: { status: number; reason?: string; message?: string };
  delayMs?: number;
  /** Close a matching watch stream after this many milliseconds or events, whichever comes first. */
  dropWatchAfterMs?: number;
  dropWatchAfterEvents?: number;
  /** Answer the next matching watch with an ERROR 410 Expired event, then close it. */
  expireWatch?: boolean;
  /** How many times the rule fires before it retires itself (default 1). */
  times?: number;
}

export interface FaultInjector {
  add(rule: FaultRule): () => void;
  clear(): void;
  readonly rules: readonly FaultRule[];
}

interface LiveRule {
  rule: FaultRule;
  remaining: number;
}

export class Faults implements FaultInjector {
  private live: LiveRule[] = [];

  get rules(): readonly FaultRule[] {
    return this.live.map((l) => l.rule);
  }

  add(rule: FaultRule): () => void {
    const entry: LiveRule = { rule, remaining: rule.times ?? 1 };
    this.live.push(entry);
    return () => {
      this.live = this.live.filter((l) => l !== entry);
    };
  }

  clear(): void {
    this.live = [];
  }

  /** Finds the first matching rule and consumes one use of it. */
  take(method: string, path: string, isWatch: boolean, isDryRun = false): FaultRule | undefined {
    if (this.live.length === 0) return undefined;
    for (const entry of this.live) {
      const r = entry.rule;
      if (r.method && r.method.toUpperCase() !== method) continue;
      if (r.watch !== undefined && r.watch !== isWatch) continue;
      if (r.dryRun !== undefined && r.dryRun !== isDryRun) continue;
      if (typeof r.path === 'string' ? !path.startsWith(r.path) : !r.path.test(path)) continue;
      entry.remaining--;
      if (entry.remaining <= 0) this.live = this.live.filter((l) => l !== entry);
      return r;
    }
    return undefined;
  }
}

/** Builds a rule from the JSON an out-of-process test POSTs (`path` is a prefix, or `pathRegex` a pattern). */
export function ruleFromJson(body: any): FaultRule {
  if (!body || typeof body !== 'object') throw new Error('fault rule must be a JSON object');
  const path: string | RegExp = typeof body.pathRegex === 'string' ? new RegExp(body.pathRegex) : String(body.path ?? '/');
  const rule: FaultRule = { path };
  if (typeof body.method === 'string') rule.method = body.method;
  if (typeof body.watch === 'boolean') rule.watch = body.watch;
  if (body.respond && typeof body.respond === 'object') rule.respond = body.respond;
  for (const k of ['delayMs', 'dropWatchAfterMs', 'dropWatchAfterEvents', 'times'] as const) {
    if (typeof body[k] === 'number') rule[k] = body[k];
  }
  if (body.expireWatch === true) rule.expireWatch = true;
  return rule;
}
