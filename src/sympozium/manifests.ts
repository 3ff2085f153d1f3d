import { createReadStream, readdirSync, readFileSync, realpathSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { fileProblem, limits, parseManifests } from './manifest-parse.js';
import type { ManifestDocument, Problem } from './manifest-types.js';

/**
 * Reading manifests for `validate` and `apply`: files, directories (recursively) and stdin, multi-document YAML
 * or JSON, each document with the position of every node so a problem can point at its exact line and column.
 * Bad input (binary junk, huge files, deep nesting, alias bombs) ends in a Problem, never a crash or a hang.
 * This file finds and reads the bytes under a size cap; manifest-parse.ts turns them into documents.
 */

export { parseManifests };
export type { ManifestDocument, PathSegment, Problem } from './manifest-types.js';

/** One file (or stdin) as eachManifestFile yields it. */
export interface ManifestFile {
  /** The file as the user named it (joined for files found in a directory), or "<stdin>". */
  source: string;
  documents: ManifestDocument[];
  problems: Problem[];
  bytes: number;
  /** The decoded text, when the file could be read and decoded. */
  text?: string;
  /**
   * The file's name below the -f argument that found it: its path inside the directory given, or its base
   * name when a file was given; absent for stdin.
   */
  relative?: string;
  /** The permission bits of a regular file. */
  mode?: number;
  /**
   * The absolute path of a regular file, which can be read again (apply's write passes do, checking that it
   * is unchanged); absent for stdin and for devices and pipes, which cannot.
   */
  absolute?: string;
}

const manifestExtensions = new Set(['.yaml', '.yml', '.json']);

export async function readManifests(
  paths: string[],
  io: { cwd: string; stdin: NodeJS.ReadableStream },
): Promise<{ documents: ManifestDocument[]; problems: Problem[] }> {
  const documents: ManifestDocument[] = [];
  const problems: Problem[] = [];
  for await (const file of eachManifestFile(paths, io)) {
    documents.push(...file.documents);
    problems.push(...file.problems);
  }
  return { documents, problems };
}

/**
 * The files behind `-f` one at a time, parsed, in the order given (directories recursively): a caller that
 * drops each file's documents once it is done with them holds at most one file in memory, so 150 MB of
 * manifests cost what the largest file costs, not the sum.
 */
export async function* eachManifestFile(
  paths: string[],
  io: { cwd: string; stdin: NodeJS.ReadableStream },
): AsyncGenerator<ManifestFile> {
  for (const given of paths) {
    if (given === '-') {
      const read = await readCapped(io.stdin);
      yield read.tooLarge
        ? { source: '<stdin>', documents: [], problems: [fileProblem('<stdin>', tooLargeMessage(read.bytes, true))], bytes: 0 }
        : { source: '<stdin>', ...parseManifests(read.buffer, '<stdin>'), bytes: read.bytes };
      continue;
    }
    const absolute = path.resolve(io.cwd, given);
    const info = statOrError(absolute);
    if (info instanceof Error) {
      const message = info.code === 'ENOENT' ? 'no such file or directory' : `cannot read: ${info.message}`;
      yield { source: given, documents: [], problems: [fileProblem(given, message)], bytes: 0 };
      continue;
    }
    if (info.isDirectory()) {
      const files = manifestFiles(absolute, given, new Set());
      if (files.length === 0) yield { source: given, documents: [], problems: [fileProblem(given, 'no .yaml, .yml or .json files in this directory')], bytes: 0 };
      for (const file of files) yield { ...(await readManifestFile(file.absolute, file.shown)), relative: path.relative(given, file.shown) };
    } else {
      yield { ...(await readManifestFile(absolute, given)), relative: path.basename(absolute) };
    }
  }
}

// Regular files and directories are read with the synchronous calls: the CLI reads one file after another
// with nothing else to do meanwhile, and each asynchronous call is a thread-pool round trip (the upstream
// corpus, 171 files, spent about 100 ms of 1.1 s idle between them; `npm run bench`, validate rows).
function statOrError(absolute: string): Stats | NodeJS.ErrnoException {
  try {
    return statSync(absolute);
  } catch (error) {
    return error as NodeJS.ErrnoException;
  }
}

/** One file read and parsed (again), under the same size cap and with the same Problems as the first time. */
export async function readManifestFile(absolute: string, shown: string): Promise<ManifestFile> {
  try {
    const info = statSync(absolute);
    if (!info.isFile()) {
      // A device or a pipe (/dev/stdin, /dev/zero, a FIFO) has no size to check first: read it under the cap.
      const read = await readCapped(createReadStream(absolute));
      if (read.tooLarge) return { source: shown, documents: [], problems: [fileProblem(shown, tooLargeMessage(read.bytes, true))], bytes: 0 };
      return { source: shown, ...parseManifests(read.buffer, shown), bytes: read.bytes };
    }
    if (info.size > limits.fileBytes) return { source: shown, documents: [], problems: [fileProblem(shown, tooLargeMessage(info.size, false))], bytes: 0 };
    return { source: shown, ...parseManifests(readFileSync(absolute), shown), bytes: info.size, mode: info.mode & 0o777, absolute };
  } catch (error) {
    return { source: shown, documents: [], problems: [fileProblem(shown, `cannot read: ${(error as Error).message}`)], bytes: 0 };
  }
}

/** Manifest files below a directory, sorted, skipping hidden entries (.git) and directories already seen. */
function manifestFiles(absolute: string, shown: string, seen: Set<string>): { absolute: string; shown: string }[] {
  const real = realpathSync(absolute);
  if (seen.has(real)) return [];
  seen.add(real);
  const entries = readdirSync(absolute, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const files: { absolute: string; shown: string }[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const childAbsolute = path.join(absolute, entry.name);
    const childShown = path.join(shown, entry.name);
    const linked = entry.isSymbolicLink() ? statOrError(childAbsolute) : entry;
    const info = linked instanceof Error ? undefined : linked;
    if (info?.isDirectory()) files.push(...manifestFiles(childAbsolute, childShown, seen));
    else if (info?.isFile() && manifestExtensions.has(path.extname(entry.name).toLowerCase())) {
      files.push({ absolute: childAbsolute, shown: childShown });
    }
  }
  return files;
}

async function readCapped(stream: NodeJS.ReadableStream): Promise<{ buffer: Buffer; bytes: number; tooLarge: boolean }> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    bytes += buffer.length;
    // Stop reading as soon as the input is too large: memory stays bounded whatever is piped in.
    if (bytes > limits.fileBytes) return { buffer: Buffer.alloc(0), bytes, tooLarge: true };
    chunks.push(buffer);
  }
  return { buffer: Buffer.concat(chunks), bytes, tooLarge: false };
}

function tooLargeMessage(bytes: number, partial: boolean): string {
  const size = partial ? `more than ${limits.fileBytes / 1024 / 1024} MiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  return `too large to be a manifest (${size}; the limit is ${limits.fileBytes / 1024 / 1024} MiB, the API server accepts at most 3 MiB)`;
}
