import type http from 'node:http';
import { ApiError } from './errors.js';

/**
 * Container logs for `GET /api/v1/namespaces/{ns}/pods/{name}/log`, as the kubelet serves them through the API
 * server: text/plain, one line per write, with the query options kubectl sends (`container`, `follow`,
 * `tailLines`, `sinceSeconds`, `timestamps`, `limitBytes`). There is no kubelet here, so whoever plays the
 * containers (sympozium dev's agent) appends the lines; a pod's logs go when the pod is deleted.
 */

interface LogLine {
  time: Date;
  text: string;
}

interface ContainerLog {
  lines: LogLine[];
  ended: boolean;
  followers: Set<(line: LogLine | undefined) => void>;
}

interface PodLike {
  metadata?: { name?: string; deletionTimestamp?: string };
  spec?: { containers?: { name?: string }[]; initContainers?: { name?: string }[] };
}

/** Lines kept per container: a runaway writer must not grow the emulator without bound. */
const maxLinesPerContainer = 10_000;

export class PodLogs {
  private readonly logs = new Map<string, ContainerLog>();

  private entry(namespace: string, pod: string, container: string): ContainerLog {
    const key = `${namespace}/${pod}/${container}`;
    let log = this.logs.get(key);
    if (!log) {
      log = { lines: [], ended: false, followers: new Set() };
      this.logs.set(key, log);
    }
    return log;
  }

  /** Appends text to a container's log, one line per newline-separated piece. */
  append(namespace: string, pod: string, container: string, text: string, time: Date = new Date()): void {
    const log = this.entry(namespace, pod, container);
    for (const piece of text.replace(/\n$/, '').split('\n')) {
      const line = { time, text: piece };
      log.lines.push(line);
      if (log.lines.length > maxLinesPerContainer) log.lines.shift();
      for (const follower of log.followers) follower(line);
    }
  }

  /** The container stopped: followers get the end of the stream. */
  end(namespace: string, pod: string, container: string): void {
    const log = this.entry(namespace, pod, container);
    log.ended = true;
    for (const follower of log.followers) follower(undefined);
    log.followers.clear();
  }

  /** The pod is gone: its logs go with it, and followers' streams end. */
  remove(namespace: string, pod: string): void {
    for (const [key, log] of this.logs) {
      if (!key.startsWith(`${namespace}/${pod}/`)) continue;
      for (const follower of log.followers) follower(undefined);
      this.logs.delete(key);
    }
  }

  serve(req: http.IncomingMessage, res: http.ServerResponse, url: URL, namespace: string, name: string, pod: PodLike | undefined): void {
    if (!pod) throw new ApiError(404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' });
    const containers = (pod.spec?.containers ?? []).map((container) => container.name ?? '');
    const all = [...containers, ...(pod.spec?.initContainers ?? []).map((container) => container.name ?? '')];
    let container = url.searchParams.get('container') ?? '';
    if (!container) {
      if (containers.length !== 1) {
        throw new ApiError(400, 'BadRequest', `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`);
      }
      container = containers[0]!;
    } else if (!all.includes(container)) {
      throw new ApiError(400, 'BadRequest', `container ${container} is not valid for pod ${name}`);
    }
    const number = (key: string): number | undefined => {
      const raw = url.searchParams.get(key);
      if (raw === null) return undefined;
      const value = Number(raw);
      if (!Number.isInteger(value) || value < 0) throw new ApiError(400, 'BadRequest', `invalid ${key}: ${raw}`);
      return value;
    };
    const tailLines = number('tailLines');
    const sinceSeconds = number('sinceSeconds');
    const limitBytes = number('limitBytes');
    const follow = url.searchParams.get('follow') === 'true';
    const timestamps = url.searchParams.get('timestamps') === 'true';
    const log = this.entry(namespace, name, container);
    const since = sinceSeconds === undefined ? undefined : Date.now() - sinceSeconds * 1000;
    let lines = log.lines.filter((line) => since === undefined || line.time.getTime() >= since);
    if (tailLines !== undefined) lines = tailLines === 0 ? [] : lines.slice(-tailLines);

    res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private', ...(follow ? {} : {}) });
    let written = 0;
    const write = (line: LogLine): boolean => {
      const text = `${timestamps ? `${line.time.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z')} ` : ''}${line.text}\n`;
      if (limitBytes !== undefined && written + Buffer.byteLength(text) > limitBytes) {
        res.write(Buffer.from(text).subarray(0, Math.max(0, limitBytes - written)));
        written = limitBytes;
        return false;
      }
      written += Buffer.byteLength(text);
      res.write(text);
      return true;
    };
    for (const line of lines) {
      if (!write(line)) return void res.end();
    }
    if (!follow || log.ended || pod.metadata?.deletionTimestamp) return void res.end();
    const follower = (line: LogLine | undefined) => {
      if (!line || !write(line)) {
        log.followers.delete(follower);
        res.end();
      }
    };
    log.followers.add(follower);
    req.on('close', () => log.followers.delete(follower));
  }
}
