import { createHash } from 'node:crypto';
import { CliError } from '../errors.js';
import type { KubeObject } from '../kube/client.js';
import { bodyOf, type BodyLoader, type PlannedObject } from './apply.js';
import { limits } from './manifest-parse.js';
import { parseManifests, readManifestFile, type ManifestFile } from './manifests.js';
import { reclaimMemory } from './reclaim.js';

/**
 * What `apply` keeps of the files between its validation pass and its write passes (the server-side dry run,
 * then each tier). While they fit in a budget, the bodies themselves, as the JSON text that is sent: the write
 * passes cost nothing more, and what is sent is exactly what was checked. Past the budget, only what is needed
 * to read a file again: for a regular file its path and a hash of its text; for stdin, a pipe or a device, which
 * cannot be read twice, the text itself (at most the 4 MiB cap). Each write pass then reads those files again,
 * one at a time, and refuses one whose text is no longer what was validated. Either way memory follows the
 * largest file instead of the sum (parsed YAML costs about 50 times its size; 40 files of 3.8 MB once took 4.3 GB).
 */

type Held = { source: string; bytes: number; kept?: Map<number, string> } & ({ absolute: string; hash: string } | { text: string });

/**
 * How much JSON text is kept between the passes: as much as the largest file may hold (manifest-parse.ts's cap),
 * so the peak is at most about twice one file's. A realistic apply (kilobytes) is far below it.
 */
const keepBytes = limits.fileBytes;

/** Files are loaded into one batch until it holds this much text, so many small files still go out 16 at a time. */
const batchBytes = 4 * 1024 * 1024;
/** A full collection between batches once this much was parsed (see reclaim.ts); small applies never pay for it. */
const reclaimEveryBytes = 1024 * 1024;

function hashOf(text: string): string {
  return createHash('sha256').update(text).digest('base64');
}

/** A file read again for a write pass is not what was validated: nothing of it, or after it, is sent. */
export class FileChangedError extends CliError {
  constructor(source: string, how: string) {
    super(`${source} changed after it was validated (${how})`, {
      hint: 'Something is still writing the files. Apply again once it has finished: what is sent is what was validated, or nothing.',
    });
  }
}

export class HeldManifests {
  private readonly files: Held[] = [];
  private keptBytes = 0;

  /** Remembers a file as it was validated; returns its number for the DocumentRefs of its documents. */
  hold(file: ManifestFile): number {
    const text = file.text ?? '';
    this.files.push(file.absolute ? { source: file.source, bytes: file.bytes, absolute: file.absolute, hash: hashOf(text) } : { source: file.source, bytes: file.bytes, text });
    return this.files.length - 1;
  }

  /**
   * Keeps the bodies of a file held before (all of its planned documents, by document index) while they fit
   * in the budget; a file that does not fit, and every file after it, is read again instead.
   */
  keep(file: number, bodies: { index: number; body: KubeObject }[]): void {
    const held = this.files[file]!;
    const texts = new Map(bodies.map(({ index, body }) => [index, JSON.stringify(body)]));
    let bytes = 0;
    for (const text of texts.values()) bytes += text.length;
    // Once one file does not fit, no later one is kept either: which files are read again is then simply the tail.
    if (this.keptBytes + bytes > keepBytes) {
      this.keptBytes = Infinity;
      return;
    }
    this.keptBytes += bytes;
    held.kept = texts;
    if ('text' in held) held.text = '';
  }

  /** The bodies of the items, a batch of whole files at a time, in the order the files were read. */
  readonly load: BodyLoader = (items) => this.bodies(items);

  private async *bodies(items: PlannedObject[]): AsyncGenerator<{ planned: PlannedObject; body: KubeObject | string }[]> {
    const byFile = new Map<number, PlannedObject[]>();
    for (const item of items) {
      const wanted = byFile.get(item.ref.file);
      if (wanted) wanted.push(item);
      else byFile.set(item.ref.file, [item]);
    }
    let batch: { planned: PlannedObject; body: KubeObject | string }[] = [];
    let batchText = 0;
    let parsed = 0;
    for (const file of [...byFile.keys()].sort((a, b) => a - b)) {
      const kept = this.files[file]!.kept;
      if (kept) {
        for (const item of byFile.get(file)!) batch.push({ planned: item, body: kept.get(item.ref.index)! });
        continue;
      }
      let objects: Map<number, KubeObject>;
      try {
        objects = await this.objectsOf(file, new Set(byFile.get(file)!.map((item) => item.ref.index)));
      } catch (error) {
        // What was loaded before the failure goes out first, so the caller knows which file failed: the next.
        if (batch.length > 0) yield batch;
        throw error;
      }
      for (const item of byFile.get(file)!) batch.push({ planned: item, body: bodyOf(item, objects.get(item.ref.index)!) });
      batchText += this.files[file]!.bytes;
      parsed += this.files[file]!.bytes;
      // The parse's garbage goes before the next file is parsed (the bodies themselves are a fraction of it).
      if (parsed > reclaimEveryBytes) {
        parsed = 0;
        reclaimMemory();
      }
      if (batchText >= batchBytes) {
        yield batch;
        batch = [];
        batchText = 0;
      }
    }
    if (batch.length > 0) yield batch;
  }

  private async objectsOf(file: number, indexes: Set<number>): Promise<Map<number, KubeObject>> {
    const held = this.files[file]!;
    let documents;
    if ('text' in held) documents = parseManifests(held.text, held.source).documents;
    else {
      const read = await readManifestFile(held.absolute, held.source);
      if (read.text === undefined || hashOf(read.text) !== held.hash) {
        throw new FileChangedError(held.source, read.text === undefined ? 'it can no longer be read' : 'its content is different');
      }
      documents = read.documents;
    }
    const objects = new Map<number, KubeObject>();
    for (const document of documents) if (indexes.has(document.index)) objects.set(document.index, document.object as KubeObject);
    return objects;
  }
}
