import { Composer, LineCounter, Parser, isAlias, isMap, isScalar, isSeq, type Document, type Node, type Pair, type Scalar, type YAMLMap } from 'yaml';
import type { Locator, ManifestDocument, PathSegment, Position, Problem } from './manifest-types.js';

/**
 * One file's bytes into documents with positions. The YAML library is robust but not hardened: deep nesting
 * can exhaust the stack (fatally, past a point), a wide map made its duplicate check quadratic, and junk makes
 * an Error per line. Each of those is handled here before or around it, so any input ends in Problems within
 * a time and memory bounded by the size cap.
 */

export const limits = {
  /** The API server refuses requests over 3 MiB; anything much larger is not a manifest. */
  fileBytes: 4 * 1024 * 1024,
  documentsPerFile: 2_000,
  /** Real manifests nest a dozen levels; the YAML composer recurses per level and must stay far from the stack limit. */
  nesting: 100,
  aliases: 100,
  yamlErrorsPerDocument: 20,
} as const;

export function fileProblem(source: string, message: string, position: Position = { line: 0, column: 0 }): Problem {
  return { source, ...position, path: '', message, severity: 'error' };
}

/** Parses one file's bytes into documents; everything that goes wrong becomes a Problem with a position. */
export function parseManifests(input: Buffer | string, source: string): { documents: ManifestDocument[]; problems: Problem[]; text?: string } {
  const decoded = decode(input);
  if ('problem' in decoded) return { documents: [], problems: [fileProblem(source, decoded.problem)] };
  const text = decoded.text;
  const lineCounter = new LineCounter();
  const positionOf = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };

  const tooDeep = deepestLine(text);
  if (tooDeep) {
    return {
      documents: [],
      problems: [fileProblem(source, `nested more than ${limits.nesting} levels deep; manifests are never this deep`, tooDeep)],
      text,
    };
  }

  const documents: ManifestDocument[] = [];
  const problems: Problem[] = [];
  const composer = new Composer({
    prettyErrors: false,
    merge: true,
    // The library's own duplicate-key check compares every key with every other (minutes for a map of 100k
    // keys); duplicateKeys() below does the same job in linear time.
    uniqueKeys: false,
  });
  let index = -1;
  for (const doc of withoutStackTraces(composer.compose(new Parser(lineCounter.addNewLine).parse(text), false, text.length))) {
    index++;
    if (index >= limits.documentsPerFile) {
      problems.push(fileProblem(source, `more than ${limits.documentsPerFile} documents; split the file`, positionOf(doc.range[0])));
      break;
    }
    if (doc.errors.length > 0) {
      for (const error of doc.errors.slice(0, limits.yamlErrorsPerDocument)) {
        problems.push(fileProblem(source, `YAML: ${firstLine(error.message)}`, positionOf(error.pos[0])));
      }
      continue;
    }
    const contents = doc.contents as Node | null;
    if (contents === null || (isScalar(contents) && contents.value === null)) continue;
    const duplicates = duplicateKeys(contents);
    if (duplicates.length > 0) {
      for (const key of duplicates) {
        problems.push(fileProblem(source, `YAML: duplicate key "${String(key.value)}" (kubectl rejects it; keep one)`, positionOf(key.range?.[0] ?? 0)));
      }
      continue;
    }
    const start = positionOf(contents.range?.[0] ?? doc.range[0]);
    if (!isMap(contents)) {
      const found = isSeq(contents) ? 'a list' : isScalar(contents) ? `a ${typeof contents.value} (${preview(contents.value)})` : 'an alias';
      problems.push({ ...fileProblem(source, `expected a Kubernetes object (a mapping with apiVersion, kind and metadata), found ${found}`, start), code: 'not-an-object' });
      continue;
    }
    let object: unknown;
    try {
      object = doc.toJS({ maxAliasCount: limits.aliases });
    } catch (error) {
      const message = error instanceof ReferenceError && /alias/i.test(error.message)
        ? `too many aliases (more than ${limits.aliases} expansions): refusing what looks like a YAML alias bomb`
        : `cannot read this document: ${(error as Error).message}`;
      problems.push(fileProblem(source, message, start));
      continue;
    }
    flattenStrings(object);
    documents.push({ source, index, ...start, object: object as Record<string, unknown>, locate: locator(doc, positionOf), yaml: doc });
  }
  for (const error of composer.streamInfo().errors) problems.push(fileProblem(source, `YAML: ${firstLine(error.message)}`, positionOf(error.pos[0])));
  if (documents.length === 0 && problems.length === 0 && index < 0) {
    problems.push(fileProblem(source, 'no documents: the file is empty', { line: 1, column: 1 }));
  } else if (documents.length === 0 && problems.length === 0) {
    problems.push(fileProblem(source, 'no documents: every document in the file is empty', { line: 1, column: 1 }));
  }
  return { documents, problems, text };
}

/**
 * The YAML library builds a quoted scalar's value a character at a time, and V8 keeps such a string as a rope
 * of one node per character (tens of bytes each) until something reads it as a whole: a 3.7 MB file of quoted
 * values held 130 MB after collection, 12 MB once flattened. Reading each string once flattens it in place (V8's
 * String::Flatten, run by charCodeAt), for the object and the document's nodes alike, which share the strings;
 * each document is done as it is read, so one document's rope at most is alive at a time.
 */
function flattenStrings(root: unknown): void {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (Array.isArray(value)) {
      for (const item of value) {
        if (typeof item === 'string') item.charCodeAt(0);
        else if (item !== null && typeof item === 'object') stack.push(item);
      }
    } else if (value !== null && typeof value === 'object') {
      for (const key in value) {
        const item = (value as Record<string, unknown>)[key];
        if (typeof item === 'string') item.charCodeAt(0);
        else if (item !== null && typeof item === 'object') stack.push(item);
      }
    }
  }
}

function decode(input: Buffer | string): { text: string } | { problem: string } {
  if (typeof input === 'string') return { text: input.replace(/^\uFEFF/, '') };
  if (input.includes(0)) return { problem: 'binary data, not a YAML or JSON manifest (or UTF-16 text: save it as UTF-8)' };
  try {
    return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(input) };
  } catch {
    return { problem: 'not UTF-8 text: a manifest must be UTF-8 encoded YAML or JSON' };
  }
}

/**
 * A cheap over-estimate of nesting, line by line, before the recursive YAML composer sees the text: block
 * nesting needs a deeper column per level and flow nesting an opening bracket per level. Quotes and comments
 * are deliberately not interpreted (a scanner that guessed wrong about a quote inside a block scalar could be
 * led to miss real nesting), so brackets inside strings count too; only absurd text has a hundred unclosed.
 * Returns where the limit is first exceeded.
 */
function deepestLine(text: string): Position | undefined {
  let flow = 0;
  let line = 1;
  let lineStart = 0;
  let indent = 0;
  let inIndent = true;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (char === 10 /* \n */) {
      line++;
      lineStart = i + 1;
      indent = 0;
      inIndent = true;
      continue;
    }
    // Indentation, and the "- ", "? " and ": " indicators of compact nested collections on the same line.
    if (inIndent) {
      if (char === 32 || char === 45 || char === 63 || char === 58 || char === 9) indent++;
      else inIndent = false;
    }
    if (char === 91 /* [ */ || char === 123 /* { */) flow++;
    else if ((char === 93 /* ] */ || char === 125) /* } */ && flow > 0) flow--;
    if (flow + indent / 2 > limits.nesting) return { line, column: i - lineStart + 1 };
  }
  return undefined;
}

/**
 * The YAML library creates an Error for every problem it meets, and garbage input has one per line: capturing
 * a stack trace for each made a 4 MiB file of junk take half a minute. Its messages carry positions, so the
 * traces are dropped while it works (only while it works: our own code keeps its traces).
 */
function* withoutStackTraces<T>(documents: Generator<T>): Generator<T> {
  for (;;) {
    const saved = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    let step: IteratorResult<T>;
    try {
      step = documents.next();
    } finally {
      Error.stackTraceLimit = saved;
    }
    if (step.done) return;
    yield step.value;
  }
}

/** Keys that repeat within one mapping, anywhere in the document; aliases are not followed. */
function duplicateKeys(root: Node): Scalar[] {
  const found: Scalar[] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0 && found.length < limits.yamlErrorsPerDocument) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        if (isScalar(pair.key) && pair.key.value !== '<<') {
          const name = String(pair.key.value);
          if (seen.has(name)) found.push(pair.key);
          seen.add(name);
        }
        stack.push(pair.value);
      }
    } else if (isSeq(node)) {
      // One push per item: spreading a list of a million items would overflow the call stack.
      for (const item of node.items) stack.push(item);
    }
  }
  return found;
}

function locator(doc: Document.Parsed, positionOf: (offset: number) => Position): Locator {
  // Maps are indexed on first use: a lookup per validated value must not scan a map with thousands of keys.
  const indexes = new WeakMap<YAMLMap, Map<string, Pair>>();
  const pairOf = (map: YAMLMap, key: string): Pair | undefined => {
    let index = indexes.get(map);
    if (!index) {
      index = new Map();
      for (const item of map.items) if (isScalar(item.key) && !index.has(String(item.key.value))) index.set(String(item.key.value), item);
      indexes.set(map, index);
    }
    return index.get(key);
  };
  const walk = (segments: PathSegment[]) => {
    let node: unknown = doc.contents;
    let key: Node | undefined;
    let last: Node = doc.contents as Node;
    for (const segment of segments) {
      if (isAlias(node)) node = node.resolve(doc);
      if (isMap(node) && typeof segment === 'string') {
        const pair = pairOf(node as YAMLMap, segment);
        if (!pair) return { node: last, key: undefined, complete: false };
        key = pair.key as Node;
        node = pair.value;
        last = (pair.value as Node | null) ?? key;
      } else if (isSeq(node) && typeof segment === 'number' && node.items[segment]) {
        key = undefined;
        node = node.items[segment];
        last = node as Node;
      } else return { node: last, key: undefined, complete: false };
    }
    return { node: last, key, complete: true };
  };
  return {
    position(segments, at) {
      const found = walk(segments);
      const target = at === 'key' && found.complete && found.key ? found.key : found.node;
      return positionOf(target?.range?.[0] ?? doc.range[0]);
    },
    plainScalar(segments) {
      const found = walk(segments);
      if (!found.complete || !isScalar(found.node) || found.node.type !== 'PLAIN') return undefined;
      return found.node.source;
    },
  };
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
