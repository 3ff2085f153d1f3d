/**
 * The pieces of an answer while a run produces them: the local stand-in for upstream's IPC bridge between the
 * agent container and the web-proxy sidecar. The run's final result still comes from its AgentRun status (read
 * through a watch); this only lets a streaming client see chunks as they are produced. Chunks are buffered, so a
 * subscriber that arrives late gets them all, and dropped a while after the run ends.
 */
interface Entry {
  chunks: string[];
  done: boolean;
  listeners: Set<(chunk: string) => void>;
  timer?: NodeJS.Timeout;
}

export class RunStreams {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly keepAfterEndMs = 60_000,
    private readonly maxLifetimeMs = 30 * 60_000,
  ) {}

  private entry(key: string): Entry {
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { chunks: [], done: false, listeners: new Set() };
      // A run deleted before it started never ends: drop its entry anyway, long after any client gave up.
      entry.timer = setTimeout(() => this.entries.delete(key), this.maxLifetimeMs);
      entry.timer.unref?.();
      this.entries.set(key, entry);
    }
    return entry;
  }

  push(key: string, chunk: string): void {
    const entry = this.entry(key);
    entry.chunks.push(chunk);
    for (const listener of entry.listeners) listener(chunk);
  }

  end(key: string): void {
    const entry = this.entry(key);
    entry.done = true;
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => this.entries.delete(key), this.keepAfterEndMs);
    entry.timer.unref?.();
  }

  /** Replays what was produced so far, then forwards new chunks; returns the unsubscribe function. */
  subscribe(key: string, onChunk: (chunk: string) => void): () => void {
    const entry = this.entry(key);
    for (const chunk of entry.chunks) onChunk(chunk);
    entry.listeners.add(onChunk);
    return () => entry.listeners.delete(onChunk);
  }

  clear(): void {
    for (const entry of this.entries.values()) clearTimeout(entry.timer);
    this.entries.clear();
  }
}
