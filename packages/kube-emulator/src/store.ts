/**
 * The single object store: one global resourceVersion counter (like an etcd revision), objects keyed by
 * storage key (group/resource) then `namespace/name`, and a bounded event log for watch replay and 410s.
 *
 * Stored objects are treated as immutable: every write stores a new object, so reads and watch fan-out can
 * serialise the stored object directly without defensive copies.
 */

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: EventType;
  rv: number;
  storageKey: string;
  object: any;
  /** The object before this change (MODIFIED/DELETED), used by filtered watches to detect leaving the selection. */
  prev: any;
  /** Lazily cached JSON of `{"type","object"}` so 100 watchers pay for one stringify. */
  json?: string;
}

export interface Watcher {
  storageKey: string;
  namespace: string | undefined;
  deliver(event: StoreEvent): void;
  /** Called when the resource stops existing (CRD deleted) so the stream can end. */
  terminate(): void;
}

/**
 * Serialised form of stored objects. Stored objects never change, so their JSON is computed at most once and
 * shared by gets, lists and every watcher.
 */
const jsonCache = new WeakMap<object, string>();

export function jsonOf(obj: object): string {
  let json = jsonCache.get(obj);
  if (json === undefined) {
    json = JSON.stringify(obj);
    jsonCache.set(obj, json);
  }
  return json;
}

function objectKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

function keyOf(obj: any): string {
  return objectKey(obj.metadata.namespace, obj.metadata.name);
}

export class Store {
  rv = 0;
  /** Events with rv <= compactedRv were dropped from the log; a watch from before that gets 410. */
  compactedRv = 0;
  private readonly tables = new Map<string, Map<string, any>>();
  private readonly sortedCache = new Map<string, any[]>();
  /** Per-namespace slices of the sorted lists, rebuilt lazily after a write to that resource. */
  private readonly namespaceCache = new Map<string, Map<string, any[]>>();
  private events: StoreEvent[] = [];
  /** Index of the oldest retained event; the array is compacted in bulk so trimming stays O(1) amortised. */
  private head = 0;
  private readonly watchers = new Map<string, Set<Watcher>>();
  private readonly changeListeners: Array<() => void> = [];

  /**
   * Resources whose objects expire `ttlMs` after their last write, as etcd leases make kube-apiserver's Events
   * go (--event-ttl, 1 h by default): object key -> time of its last write.
   */
  private readonly leases = new Map<string, { ttlMs: number; written: Map<string, number> }>();

  constructor(
    private readonly window: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Objects of `storageKey` written from now on expire `ttlMs` after their last write (see expire()). */
  expireAfter(storageKey: string, ttlMs: number): void {
    this.leases.set(storageKey, { ttlMs, written: new Map() });
  }

  /** Removes every object whose lease has run out, each with a DELETED event as etcd's lease expiry gives. */
  expire(): number {
    let removed = 0;
    const now = this.now();
    for (const [storageKey, lease] of this.leases) {
      for (const [key, written] of lease.written) {
        if (now - written < lease.ttlMs) continue;
        const object = this.tables.get(storageKey)?.get(key);
        lease.written.delete(key);
        if (object && this.remove(storageKey, object.metadata?.namespace, object.metadata?.name)) removed++;
      }
    }
    return removed;
  }

  get(storageKey: string, namespace: string | undefined, name: string): any | undefined {
    return this.tables.get(storageKey)?.get(objectKey(namespace, name));
  }

  /** Objects of one resource in etcd key order (namespace, then name); optionally one namespace only. */
  list(storageKey: string, namespace?: string): any[] {
    let sorted = this.sortedCache.get(storageKey);
    if (!sorted) {
      const table = this.tables.get(storageKey);
      sorted = table ? [...table.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((e) => e[1]) : [];
      this.sortedCache.set(storageKey, sorted);
    }
    if (namespace === undefined) return sorted;
    let byNamespace = this.namespaceCache.get(storageKey);
    if (!byNamespace) {
      byNamespace = new Map();
      this.namespaceCache.set(storageKey, byNamespace);
    }
    let slice = byNamespace.get(namespace);
    if (!slice) {
      slice = sorted.filter((o) => o.metadata.namespace === namespace);
      byNamespace.set(namespace, slice);
    }
    return slice;
  }

  count(storageKey: string): number {
    return this.tables.get(storageKey)?.size ?? 0;
  }

  storageKeys(): string[] {
    return [...this.tables.keys()];
  }

  /** Stores a created or updated object under the next resourceVersion and notifies watchers. */
  write(storageKey: string, obj: any): any {
    const rv = ++this.rv;
    obj.metadata.resourceVersion = String(rv);
    let table = this.tables.get(storageKey);
    if (!table) {
      table = new Map();
      this.tables.set(storageKey, table);
    }
    const key = keyOf(obj);
    const prev = table.get(key);
    table.set(key, obj);
    this.leases.get(storageKey)?.written.set(key, this.now());
    this.invalidate(storageKey);
    this.emit({ type: prev ? 'MODIFIED' : 'ADDED', rv, storageKey, object: obj, prev });
    return obj;
  }

  /** Removes an object; the DELETED event carries the deletion resourceVersion, as upstream. */
  remove(storageKey: string, namespace: string | undefined, name: string): any | undefined {
    const table = this.tables.get(storageKey);
    const key = objectKey(namespace, name);
    const prev = table?.get(key);
    if (!table || !prev) return undefined;
    table.delete(key);
    this.leases.get(storageKey)?.written.delete(key);
    this.invalidate(storageKey);
    const rv = ++this.rv;
    const object = { ...prev, metadata: { ...prev.metadata, resourceVersion: String(rv) } };
    this.emit({ type: 'DELETED', rv, storageKey, object, prev });
    return object;
  }

  /** Loads objects without events (persistence restore). */
  load(storageKey: string, obj: any): void {
    let table = this.tables.get(storageKey);
    if (!table) {
      table = new Map();
      this.tables.set(storageKey, table);
    }
    table.set(keyOf(obj), obj);
    // A restored object's lease starts again: the state file keeps objects, not leases.
    this.leases.get(storageKey)?.written.set(keyOf(obj), this.now());
    this.invalidate(storageKey);
  }

  /** Events after `rv` for one resource, or undefined when some of them were already dropped (410). */
  eventsSince(storageKey: string, rv: number): StoreEvent[] | undefined {
    if (rv < this.compactedRv) return undefined;
    let lo = this.head;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.events[mid]!.rv <= rv) lo = mid + 1;
      else hi = mid;
    }
    const out: StoreEvent[] = [];
    for (let i = lo; i < this.events.length; i++) if (this.events[i]!.storageKey === storageKey) out.push(this.events[i]!);
    return out;
  }

  /** The oldest resourceVersion a watch can still start from. */
  oldestRetained(): number {
    return this.compactedRv + 1;
  }

  addWatcher(w: Watcher): void {
    let set = this.watchers.get(w.storageKey);
    if (!set) {
      set = new Set();
      this.watchers.set(w.storageKey, set);
    }
    set.add(w);
  }

  removeWatcher(w: Watcher): void {
    this.watchers.get(w.storageKey)?.delete(w);
  }

  watcherCount(): number {
    let n = 0;
    for (const s of this.watchers.values()) n += s.size;
    return n;
  }

  /** Ends every watch on a resource (its CRD was deleted) or on all resources (server shutdown). */
  terminateWatchers(storageKey?: string): void {
    for (const [key, set] of this.watchers) {
      if (storageKey !== undefined && key !== storageKey) continue;
      for (const w of [...set]) w.terminate();
      set.clear();
    }
  }

  onChange(listener: () => void): void {
    this.changeListeners.push(listener);
  }

  /** Drops a whole resource table (CRD removal after its objects were deleted). */
  dropTable(storageKey: string): void {
    this.tables.delete(storageKey);
    this.invalidate(storageKey);
  }

  private invalidate(storageKey: string): void {
    this.sortedCache.delete(storageKey);
    this.namespaceCache.delete(storageKey);
  }

  private emit(event: StoreEvent): void {
    this.events.push(event);
    while (this.events.length - this.head > this.window) {
      this.compactedRv = this.events[this.head]!.rv;
      this.events[this.head] = undefined as unknown as StoreEvent;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.events.length) {
      this.events = this.events.slice(this.head);
      this.head = 0;
    }
    // Persisted (when on) before any watcher or client hears of it: nothing acknowledged is lost on a crash.
    for (const l of this.changeListeners) l();
    const set = this.watchers.get(event.storageKey);
    if (set) {
      for (const w of set) {
        // A watcher that fails to encode an event is ended; the write that caused the event still succeeds.
        try {
          w.deliver(event);
        } catch {
          set.delete(w);
          w.terminate();
        }
      }
    }
  }
}
