import { CliError, InterruptedError } from '../errors.js';
import type { KubeClient, KubeList, KubeObject } from './client.js';
import { KubeApiError } from './errors.js';

/**
 * A list-then-watch that a consumer can follow for as long as it likes without missing or repeating a
 * change: it resumes from the last resourceVersion it saw (bookmarks included) after a clean close or a
 * dropped connection, and when the server says 410 Expired it lists again and emits the difference between
 * what it had and what is there now as synthetic events.
 *
 * What it yields, in order:
 * - `{ type: 'LISTED', items, relist: false }` once, after the first list (the state to start from);
 * - `ADDED | MODIFIED | DELETED` for every change after that (`synthetic: true` when derived from a relist);
 * - `{ type: 'LISTED', items, relist: true }` after each relist, once its synthetic events are out.
 * BOOKMARK and ERROR events are consumed here. A change is never yielded twice for the same resourceVersion.
 */
export type WatchUpdate<T> =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: T; synthetic?: boolean }
  | { type: 'LISTED'; items: T[]; resourceVersion: string; relist: boolean };

export interface WatchObjectsOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Start watching from here without listing first (no initial LISTED). */
  resourceVersion?: string;
  signal?: AbortSignal;
  /** Called after every list (initial and after 410), e.g. to log under --verbose. */
  onRelist?: (items: number, reason: 'initial' | 'expired') => void;
  /** Called when a watch connection ended and is being resumed. */
  onResume?: (resourceVersion: string, reason: string) => void;
  /** Server-side timeout for each watch request; the stream is resumed after it. Default 300 s. */
  timeoutSeconds?: number;
  /** Consecutive failed attempts (connection refused, 5xx, 429) before giving up. Default 8. */
  maxRetries?: number;
  /** First retry delay in ms, doubled per attempt up to 5 s. Default 200. */
  retryDelayMs?: number;
  /** Page size for lists. Default 500. */
  pageSize?: number;
}

type Meta = { metadata?: { name?: string; namespace?: string; resourceVersion?: string } };

const keyOf = (object: Meta) => `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;

export async function* watchObjects<T extends Meta = KubeObject>(
  kube: KubeClient,
  path: string,
  options: WatchObjectsOptions = {},
): AsyncGenerator<WatchUpdate<T>> {
  const selectors = { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector };
  const maxRetries = options.maxRetries ?? 8;
  const baseDelay = options.retryDelayMs ?? 200;
  // What this consumer has been told: key -> resourceVersion and the last object (for synthetic DELETEDs).
  const known = new Map<string, T>();
  let resourceVersion = options.resourceVersion;
  let failures = 0;
  const startedWithoutList = resourceVersion !== undefined;

  const listAll = async (): Promise<{ items: T[]; resourceVersion: string }> => {
    const items: T[] = [];
    let continueToken: string | undefined;
    let listRv = '';
    for (;;) {
      const page: KubeList<T> = await kube.list<T>(path, { ...selectors, limit: options.pageSize ?? 500, continue: continueToken });
      items.push(...page.items);
      listRv ||= page.metadata.resourceVersion ?? '';
      continueToken = page.metadata.continue || undefined;
      if (!continueToken) break;
    }
    return { items, resourceVersion: listRv };
  };

  // Retries transient failures (connection refused, 5xx, 429) with backoff; everything else is the caller's.
  const withRetry = async <R>(attempt: () => Promise<R>): Promise<R> => {
    for (;;) {
      try {
        const result = await attempt();
        return result;
      } catch (error) {
        if (!isTransient(error) || failures >= maxRetries || options.signal?.aborted) throw error;
        failures += 1;
        options.onResume?.(resourceVersion ?? '', describeFailure(error));
        await sleep(Math.min(baseDelay * 2 ** (failures - 1), 5000), options.signal);
      }
    }
  };

  if (resourceVersion === undefined) {
    const listed = await withRetry(listAll);
    failures = 0;
    for (const item of listed.items) known.set(keyOf(item), item);
    resourceVersion = listed.resourceVersion;
    options.onRelist?.(listed.items.length, 'initial');
    yield { type: 'LISTED', items: listed.items, resourceVersion, relist: false };
  }

  while (!options.signal?.aborted) {
    let expired = false;
    const streamStarted = Date.now();
    let streamEvents = 0;
    try {
      const stream = await withRetry(async () => {
        const iterator = kube
          .watchStream<T>(path, {
            ...selectors,
            resourceVersion,
            allowWatchBookmarks: true,
            timeoutSeconds: options.timeoutSeconds ?? 300,
          }, options.signal)
          [Symbol.asyncIterator]();
        // Pull the first event inside the retry so a refused connection or a 5xx reply is retried too.
        const first = await iterator.next();
        return { iterator, first };
      });
      let next = stream.first;
      try {
        while (!next.done) {
          const event = next.value;
          failures = 0;
          streamEvents += 1;
          if (event.type === 'ERROR') {
            const status = event.object as unknown as { code?: number; reason?: string; message?: string };
            if (status.code === 410 || status.reason === 'Expired' || status.reason === 'Gone') {
              expired = true;
              break;
            }
            throw new KubeApiError(status.message ?? 'the watch failed', status.code ?? 500, status as never);
          }
          const eventRv = event.object?.metadata?.resourceVersion;
          if (event.type === 'BOOKMARK') {
            if (eventRv) resourceVersion = eventRv;
          } else {
            if (eventRv) resourceVersion = eventRv;
            const key = keyOf(event.object);
            const previous = known.get(key);
            if (event.type === 'DELETED') {
              // A DELETED for an object the consumer never saw is a replay of one it already got, unless
              // the watch started from a caller's resourceVersion without a list.
              if (previous || startedWithoutList) {
                known.delete(key);
                yield { type: 'DELETED', object: event.object };
              }
            } else if (!previous || previous.metadata?.resourceVersion !== eventRv) {
              // A replay after resuming repeats what the consumer already saw; only new versions go out.
              known.set(key, event.object);
              yield { type: previous ? 'MODIFIED' : 'ADDED', object: event.object };
            }
          }
          next = await stream.iterator.next();
        }
      } finally {
        // Ends the HTTP response whether the stream expired, failed or the consumer stopped early.
        await stream.iterator.return?.(undefined);
      }
    } catch (error) {
      if (options.signal?.aborted) return;
      if (error instanceof KubeApiError && error.code === 410) expired = true;
      else throw error;
    }

    if (options.signal?.aborted) return;
    if (expired) {
      const listed = await withRetry(listAll);
      failures = 0;
      yield* diff(known, listed.items);
      resourceVersion = listed.resourceVersion;
      options.onRelist?.(listed.items.length, 'expired');
      yield { type: 'LISTED', items: listed.items, resourceVersion, relist: true };
    } else {
      options.onResume?.(resourceVersion ?? '', 'the watch connection closed');
      // A server (or proxy) that closes every watch at once must not be hammered: back off as for errors.
      if (streamEvents === 0 && Date.now() - streamStarted < 1000) {
        failures += 1;
        if (failures > maxRetries) {
          throw new CliError(`the cluster keeps closing the watch on ${path} as soon as it opens`, {
            hint: 'A proxy between here and the API server may not support long-lived requests; run `sympozium doctor`, or try again.',
          });
        }
        await sleep(Math.min(baseDelay * 2 ** (failures - 1), 5000), options.signal).catch(() => undefined);
      }
    }
  }
}

/** Synthetic events that bring a consumer from what it knew to what a fresh list says. */
function* diff<T extends Meta>(known: Map<string, T>, items: T[]): Generator<WatchUpdate<T>> {
  const seen = new Set<string>();
  for (const item of items) {
    const key = keyOf(item);
    seen.add(key);
    const previous = known.get(key);
    if (!previous) {
      known.set(key, item);
      yield { type: 'ADDED', object: item, synthetic: true };
    } else if (previous.metadata?.resourceVersion !== item.metadata?.resourceVersion) {
      known.set(key, item);
      yield { type: 'MODIFIED', object: item, synthetic: true };
    }
  }
  for (const [key, previous] of [...known]) {
    if (!seen.has(key)) {
      known.delete(key);
      yield { type: 'DELETED', object: previous, synthetic: true };
    }
  }
}

function isTransient(error: unknown): boolean {
  if (error instanceof KubeApiError) return error.code >= 500 || error.code === 429;
  if (error instanceof InterruptedError) return false;
  // Socket-level failures arrive as CliErrors from connectionError(), with the socket error as the cause.
  const cause = (error as { cause?: NodeJS.ErrnoException } | undefined)?.cause;
  const code = cause?.code ?? (error as NodeJS.ErrnoException | undefined)?.code;
  return ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ERR_STREAM_PREMATURE_CLOSE'].includes(code ?? '');
}

function describeFailure(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new InterruptedError());
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(new InterruptedError());
      },
      { once: true },
    );
  });
}

/**
 * Follows a collection until `check` returns something, or until `deadline` (a Date.now() value). Returns
 * `timedOut: true` with the last state seen rather than throwing, so the caller can say why the thing it
 * waited for did not come (the run's error, the Deployment's condition).
 */
export async function watchUntil<T extends Meta, R>(
  kube: KubeClient,
  path: string,
  options: Omit<WatchObjectsOptions, 'signal'> & { deadline: number; signal?: AbortSignal },
  check: (objects: Map<string, T>) => R | undefined,
): Promise<{ result?: R; objects: Map<string, T>; timedOut: boolean }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), Math.max(0, options.deadline - Date.now()));
  const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
  const objects = new Map<string, T>();
  try {
    for await (const update of watchObjects<T>(kube, path, { ...options, signal })) {
      if (update.type === 'LISTED') {
        objects.clear();
        for (const item of update.items) objects.set(item.metadata?.name ?? '', item);
      } else if (update.type === 'DELETED') objects.delete(update.object.metadata?.name ?? '');
      else objects.set(update.object.metadata?.name ?? '', update.object);
      const result = check(objects);
      if (result !== undefined) return { result, objects, timedOut: false };
    }
  } catch (error) {
    if (!controller.signal.aborted || options.signal?.aborted) throw error;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  if (options.signal?.aborted) throw new InterruptedError();
  return { objects, timedOut: true };
}
