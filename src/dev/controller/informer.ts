import type { KubeClient, WatchEvent } from '../../kube/client.js';
import { KubeApiError } from '../../kube/errors.js';

/**
 * A list-then-watch cache of one resource type, the way controller-runtime's informers behave: it lists once,
 * watches from the list's resourceVersion, resumes from the last seen resourceVersion when the server closes
 * the stream, and relists (emitting the differences) when the server answers 410 Expired. Handlers see every
 * change exactly once per observed version.
 */

export type InformerEvent = 'add' | 'update' | 'delete';
export type InformerHandler<T> = (event: InformerEvent, object: T, previous?: T) => void;

export interface InformerOptions {
  /** The collection path, e.g. /apis/sympozium.ai/v1alpha1/agentruns (all namespaces). */
  path: string;
  labelSelector?: string;
  log?: (line: string) => void;
}

/** What the cache needs of an object. */
export interface Watched {
  metadata: { name?: string; namespace?: string; resourceVersion?: string };
}

function objectKey(object: Watched): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name ?? ''}`;
}

export class Informer<T extends Watched = Watched> {
  readonly store = new Map<string, T>();
  private readonly handlers = new Set<InformerHandler<T>>();
  private readonly abort = new AbortController();
  private resourceVersion = '';
  private syncedResolve!: () => void;
  /** Resolves once the first list has been stored and announced. */
  readonly synced = new Promise<void>((resolve) => (this.syncedResolve = resolve));

  constructor(
    private readonly client: KubeClient,
    private readonly options: InformerOptions,
  ) {}

  on(handler: InformerHandler<T>): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  get(namespace: string, name: string): T | undefined {
    return this.store.get(`${namespace}/${name}`);
  }

  list(filter?: (object: T) => boolean): T[] {
    const all = [...this.store.values()];
    return filter ? all.filter(filter) : all;
  }

  start(): void {
    void this.loop();
  }

  stop(): void {
    this.abort.abort();
  }

  private emit(event: InformerEvent, object: T, previous?: T): void {
    for (const handler of this.handlers) {
      try {
        handler(event, object, previous);
      } catch (error) {
        this.options.log?.(`informer ${this.options.path}: handler failed: ${(error as Error).message}`);
      }
    }
  }

  private async relist(): Promise<void> {
    const list = await this.client.list<T>(this.options.path, { labelSelector: this.options.labelSelector });
    const seen = new Set<string>();
    for (const item of list.items) {
      const key = objectKey(item);
      seen.add(key);
      const previous = this.store.get(key);
      this.store.set(key, item);
      if (!previous) this.emit('add', item);
      else if (previous.metadata.resourceVersion !== item.metadata.resourceVersion) this.emit('update', item, previous);
    }
    for (const [key, object] of [...this.store]) {
      if (!seen.has(key)) {
        this.store.delete(key);
        this.emit('delete', object);
      }
    }
    this.resourceVersion = list.metadata.resourceVersion ?? '';
  }

  private async loop(): Promise<void> {
    let needList = true;
    let failures = 0;
    while (!this.abort.signal.aborted) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
          this.syncedResolve();
        }
        const stream = this.client.watchStream<T>(
          this.options.path,
          { labelSelector: this.options.labelSelector, resourceVersion: this.resourceVersion, allowWatchBookmarks: true },
          this.abort.signal,
        );
        for await (const event of stream) {
          failures = 0;
          if (event.type === 'ERROR') {
            const status = event.object as unknown as { code?: number };
            // 410 Gone: our resourceVersion is older than the server's history; start over from a fresh list.
            if (status.code === 410) needList = true;
            break;
          }
          this.apply(event);
        }
      } catch (error) {
        if (this.abort.signal.aborted) return;
        if (error instanceof KubeApiError && error.code === 410) needList = true;
        failures += 1;
        this.options.log?.(`informer ${this.options.path}: ${(error as Error).message}; retrying`);
        await sleep(Math.min(2000, 50 * 2 ** Math.min(failures, 6)), this.abort.signal);
      }
    }
  }

  private apply(event: WatchEvent<T>): void {
    const object = event.object;
    if (object.metadata?.resourceVersion) this.resourceVersion = object.metadata.resourceVersion;
    if (event.type === 'BOOKMARK') return;
    const key = objectKey(object);
    const previous = this.store.get(key);
    if (event.type === 'DELETED') {
      this.store.delete(key);
      this.emit('delete', object, previous);
      return;
    }
    this.store.set(key, object);
    this.emit(previous ? 'update' : 'add', object, previous);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
