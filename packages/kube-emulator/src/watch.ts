/**
 * Watch streams: chunked JSON lines, replay from a resourceVersion (or synthetic ADDED events for the current
 * state), ERROR 410 Expired then close for a resourceVersion older than the retained window, periodic bookmarks
 * when asked, `timeoutSeconds`, and selector-filtered watches where an object leaving the selection is DELETED.
 * With a Table Accept, each event carries a one-row Table whose column headers appear on the first event only.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './errors.js';
import type { FaultRule } from './faults.js';
import { apiVersionOf, type ResourceType } from './registry.js';
import { jsonOf, type Store, type StoreEvent, type Watcher } from './store.js';
import { buildTable, type IncludeObject } from './tables.js';

export interface WatchRequest {
  type: ResourceType;
  namespace: string | undefined;
  predicate: ((obj: any) => boolean) | undefined;
  resourceVersion: string | undefined;
  timeoutSeconds: number | undefined;
  allowBookmarks: boolean;
  /** WatchList (`sendInitialEvents=true`): the current state as ADDED events, then an initial-events-end bookmark. */
  sendInitialEvents: boolean;
  table: IncludeObject | undefined;
  bookmarkIntervalMs: number;
  fault: FaultRule | undefined;
}

type EventKind = 'ADDED' | 'MODIFIED' | 'DELETED';

export function serveWatch(req: IncomingMessage, res: ServerResponse, store: Store, w: WatchRequest): void {
  const t = w.type;
  const apiVersion = apiVersionOf(t);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  let closed = false;
  let sent = 0;
  let headersSent = false;
  const timers: NodeJS.Timeout[] = [];

  // Lines are queued and written once per event-loop turn: a burst of events costs one chunk (one syscall)
  // per watcher instead of one per event, which is what keeps a 100-watcher fan-out cheap.
  let pending: string[] = [];
  let flushScheduled = false;
  const flush = () => {
    flushScheduled = false;
    if (pending.length === 0 || res.writableEnded) return;
    res.write(pending.length === 1 ? pending[0]! : pending.join(''));
    pending = [];
  };

  const finish = () => {
    if (closed) return;
    closed = true;
    store.removeWatcher(watcher);
    for (const timer of timers) clearTimeout(timer);
    flush();
    res.end();
  };

  const writeLine = (line: string) => {
    if (closed) return;
    pending.push(line);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
    sent++;
    if (w.fault?.dropWatchAfterEvents !== undefined && sent >= w.fault.dropWatchAfterEvents) finish();
  };

  const encode = (type: EventKind, obj: any): string => {
    const object = obj.apiVersion === apiVersion ? obj : { ...obj, apiVersion };
    if (!w.table) return `{"type":"${type}","object":${object === obj ? jsonOf(obj) : JSON.stringify(object)}}\n`;
    const table = buildTable(t, [object], { include: w.table, noHeaders: headersSent });
    headersSent = true;
    table.metadata = { resourceVersion: object.metadata.resourceVersion };
    return `{"type":"${type}","object":${JSON.stringify(table)}}\n`;
  };

  const inScope = (obj: any) => w.namespace === undefined || obj.metadata.namespace === w.namespace;

  const deliver = (ev: StoreEvent) => {
    if (closed || !inScope(ev.object)) return;
    let type: EventKind = ev.type;
    if (w.predicate) {
      const nowMatches = ev.type !== 'DELETED' && w.predicate(ev.object);
      const wasMatching = ev.prev !== undefined && w.predicate(ev.prev);
      if (ev.type === 'ADDED') {
        if (!nowMatches) return;
      } else if (ev.type === 'MODIFIED') {
        if (nowMatches && !wasMatching) type = 'ADDED';
        else if (!nowMatches && wasMatching) type = 'DELETED';
        else if (!nowMatches) return;
      } else if (!wasMatching) return;
    }
    if (type === ev.type && !w.table && ev.object.apiVersion === apiVersion) {
      ev.json ??= `{"type":"${ev.type}","object":${jsonOf(ev.object)}}\n`;
      writeLine(ev.json);
      return;
    }
    writeLine(encode(type, ev.object));
  };

  const watcher: Watcher = { storageKey: t.storageKey, namespace: w.namespace, deliver, terminate: finish };

  const bookmark = () => {
    const object = { kind: t.kind, apiVersion, metadata: { resourceVersion: String(store.rv) } };
    writeLine(`{"type":"BOOKMARK","object":${JSON.stringify(object)}}\n`);
  };

  res.on('close', finish);

  if (w.fault?.expireWatch) {
    writeLine(expiredLine(Number(w.resourceVersion ?? 0), store.oldestRetained()));
    finish();
    return;
  }

  const rv = w.resourceVersion;
  if (w.sendInitialEvents || rv === undefined || rv === '' || rv === '0') {
    for (const obj of store.list(t.storageKey, t.namespaced ? w.namespace : undefined)) {
      if (!w.predicate || w.predicate(obj)) writeLine(encode('ADDED', obj));
    }
    if (w.sendInitialEvents) {
      // WatchList: the end of the initial state is a bookmark annotated k8s.io/initial-events-end.
      const object = { kind: t.kind, apiVersion, metadata: { resourceVersion: String(store.rv), annotations: { 'k8s.io/initial-events-end': 'true' } } };
      writeLine(`{"type":"BOOKMARK","object":${JSON.stringify(object)}}\n`);
    }
  } else {
    const from = Number(rv);
    if (!Number.isInteger(from) || from < 0) {
      const err = new ApiError(400, 'BadRequest', `invalid resource version "${rv}"`);
      writeLine(`{"type":"ERROR","object":${JSON.stringify(err.toStatus())}}\n`);
      finish();
      return;
    }
    const events = store.eventsSince(t.storageKey, from);
    if (!events) {
      writeLine(expiredLine(from, store.oldestRetained()));
      finish();
      return;
    }
    for (const ev of events) deliver(ev);
  }
  if (closed) return;
  store.addWatcher(watcher);

  if (w.allowBookmarks && w.bookmarkIntervalMs > 0) {
    const timer = setInterval(bookmark, w.bookmarkIntervalMs);
    timer.unref();
    timers.push(timer);
  }
  if (w.timeoutSeconds !== undefined && w.timeoutSeconds > 0) {
    const timer = setTimeout(() => {
      if (w.allowBookmarks) bookmark();
      finish();
    }, w.timeoutSeconds * 1000);
    timer.unref();
    timers.push(timer);
  }
  if (w.fault?.dropWatchAfterMs !== undefined) {
    const timer = setTimeout(finish, w.fault.dropWatchAfterMs);
    timer.unref();
    timers.push(timer);
  }
  void req;
}

function expiredLine(requested: number, oldest: number): string {
  const status = new ApiError(410, 'Expired', `too old resource version: ${requested} (${oldest})`).toStatus();
  return `{"type":"ERROR","object":${JSON.stringify(status)}}\n`;
}
