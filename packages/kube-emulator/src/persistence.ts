/**
 * Optional persistence to one JSON state file so `sympozium dev` keeps its objects across restarts. Writes are
 * synchronous (done before the request is answered) and atomic (temp file, fsync, rename), so a crash mid-write leaves the previous state intact.
 */
import { closeSync, fsyncSync, lstatSync, openSync, readFileSync, renameSync, writeSync, mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';

export interface StateSnapshot {
  version: 1;
  resourceVersion: number;
  objects: Array<{ storageKey: string; object: any }>;
}

export function readState(file: string): StateSnapshot | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = JSON.parse(text) as StateSnapshot;
  if (parsed?.version !== 1 || !Array.isArray(parsed.objects)) throw new Error(`${file} is not an emulator state file`);
  return parsed;
}

/** Writes a state file (the JSON of a StateSnapshot) so that readers only ever see a whole file. */
function writeStateAtomically(file: string, snapshot: string): void {
  mkdirSync(dirname(file), { recursive: true });
  // Only ever a regular file: renaming over a device or FIFO someone put in its place would replace it.
  // (The emulator keeps its own check rather than borrowing the CLI's: it is a program of its own.)
  try {
    const stats = lstatSync(file);
    if (!stats.isFile()) throw new Error(`refusing to write the state file ${file}: it is not a regular file`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, snapshot);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Writes the state file through on every change; a failed write is reported and retried on the next one. */
export class StateWriter {
  constructor(
    private readonly file: string,
    /** The JSON of a StateSnapshot. */
    private readonly snapshot: () => string,
    private readonly onError: (err: Error) => void,
  ) {}

  write(): void {
    // A failed write (disk full, directory removed) must not take the server down; the previous state file
    // stays intact because writes are atomic.
    try {
      this.flush();
    } catch (err) {
      this.onError(err as Error);
    }
  }

  flush(): void {
    writeStateAtomically(this.file, this.snapshot());
  }
}
