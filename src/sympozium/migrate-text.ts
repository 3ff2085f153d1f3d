import { isAlias, isMap, isScalar, isSeq, type Document, type Node, type Pair, type Scalar } from 'yaml';
import type { PathSegment } from './manifests.js';
import { formatPath } from './schema-check.js';
import type { Change } from './migrate-plan.js';

// The changes of a plan made to the YAML text itself, token by token, so that comments, key order, quoting and
// layout survive (migrate.ts reads the result again and checks it means the migrated object), and the mapping
// of positions in the edited text back to the input for problems.

/** A replacement of the source text between two offsets. */
export interface Edit {
  start: number;
  end: number;
  text: string;
}

/**
 * The changes as edits of the text: each renamed key or value is one scalar token, replaced by the new name in
 * the same quoting. Returns a problem instead when a token cannot be edited on its own (an alias, a merge key,
 * a block scalar): rewriting it would change other places too, or need a reformat.
 */
export function editsFor(doc: Document.Parsed, changes: readonly Change[]): { edits: Edit[] } | { problem: { path: PathSegment[]; message: string } } {
  const edits: Edit[] = [];
  for (const change of changes) {
    const found = scalarAt(doc, change.path, change.op === 'rename-key' ? 'key' : 'value');
    if ('reason' in found) {
      return { problem: { path: change.path, message: `cannot be changed in place: ${found.reason}; write it out plainly and run migrate again` } };
    }
    const [start, end] = found.scalar.range!;
    edits.push({ start, end, text: quoted(change.to, found.scalar) });
  }
  edits.sort((a, b) => a.start - b.start);
  return { edits };
}

function scalarAt(doc: Document.Parsed, path: readonly PathSegment[], at: 'key' | 'value'): { scalar: Scalar } | { reason: string } {
  let node: unknown = doc.contents;
  let pair: Pair | undefined;
  for (const [depth, segment] of path.entries()) {
    if (isAlias(node)) return { reason: `${formatPath(path.slice(0, depth)) || 'the document'} is a YAML alias` };
    if (isMap(node)) {
      pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment)) as Pair | undefined;
      if (!pair) return { reason: 'it comes from a YAML merge key (<<)' };
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      pair = undefined;
      node = node.items[segment];
    } else return { reason: 'its place in the document could not be found' };
  }
  const target = at === 'key' ? (pair?.key as Node | undefined) : (node as Node | undefined);
  if (isAlias(target)) return { reason: 'it is a YAML alias' };
  if (!isScalar(target) || !target.range) return { reason: 'it is not a plain scalar' };
  if (target.type !== 'PLAIN' && target.type !== 'QUOTE_SINGLE' && target.type !== 'QUOTE_DOUBLE') return { reason: 'it is a block scalar' };
  return { scalar: target };
}

/** The new name written as the old one was: plain, 'single' or "double" quoted. */
function quoted(to: string, scalar: Scalar): string {
  if (scalar.type === 'QUOTE_SINGLE') return `'${to.replace(/'/g, "''")}'`;
  if (scalar.type === 'QUOTE_DOUBLE') return JSON.stringify(to);
  return to;
}

export function applyEdits(text: string, edits: readonly Edit[]): string {
  let result = '';
  let from = 0;
  for (const edit of edits) {
    result += text.slice(from, edit.start) + edit.text;
    from = edit.end;
  }
  return result + text.slice(from);
}

/** Where an offset of the edited text was in the original: inside a replaced token, at the token's start. */
export function originalOffset(offset: number, edits: readonly Edit[]): number {
  let shift = 0;
  for (const edit of edits) {
    const start = edit.start + shift;
    if (offset < start) break;
    if (offset < start + edit.text.length) return edit.start;
    shift += edit.text.length - (edit.end - edit.start);
  }
  return offset - shift;
}

export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let index = text.indexOf('\n'); index >= 0; index = text.indexOf('\n', index + 1)) starts.push(index + 1);
  return starts;
}

export function offsetOf(starts: number[], line: number, column: number): number {
  return (starts[line - 1] ?? 0) + Math.max(column - 1, 0);
}

export function positionOf(starts: number[], offset: number): { line: number; column: number } {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (starts[middle]! <= offset) low = middle;
    else high = middle - 1;
  }
  return { line: low + 1, column: offset - starts[low]! + 1 };
}
