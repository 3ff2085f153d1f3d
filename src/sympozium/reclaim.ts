import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A full garbage collection, for loops that drop a large file's parsed form before reading the next. V8
 * grows its heap lazily and, with the default limit of a big machine, lets several dropped files of YAML
 * syntax trees (about 50x the file's size) pile up before it collects: 40 files of 3.8 MB peaked at 1.2 GB
 * without this, under 400 MB with it. Node exposes gc() only behind --expose-gc, which a bin shim cannot
 * pass without a second process; the flag can be set at run time and the function read from a fresh context.
 */
let collect: (() => void) | undefined;

export function reclaimMemory(): void {
  if (!collect) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
}
