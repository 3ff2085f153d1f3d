import { usageError } from '../errors.js';
import { findResults, parseTemplate, renderJsonPath } from './jsonpath.js';
import type { Output } from './output.js';

/**
 * The template formats of commands that print Kubernetes objects, as `kubectl get` prints them:
 * `-o jsonpath=` applies the template to the whole answer (the List for a list, the object for a get) and adds
 * no newline; `-o custom-columns=` prints one row per object with the headers as given (`--no-headers` drops
 * them), `<none>` where a path finds nothing, several results joined by commas.
 */

interface Column {
  header: string;
  expression: string;
}

/** `NAME:.metadata.name,PHASE:.status.phase`, split as kubectl splits it (commas, then the first colon). */
function parseColumns(spec: string): Column[] {
  const columns = spec
    .split(/\r?\n/)
    .join(',')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const colon = part.indexOf(':');
      if (colon <= 0) throw usageError(`unexpected custom-columns spec: ${part}, expected <header>:<json-path-expr>`, 'For example -o custom-columns=NAME:.metadata.name,PHASE:.status.phase');
      return { header: part.slice(0, colon), expression: part.slice(colon + 1) };
    });
  if (columns.length === 0) throw usageError('custom-columns format specified but no custom columns given');
  return columns;
}

/** Parses a template before the command runs, so a broken one is a usage error before any request. */
export function checkTemplate(format: string, template: string): void {
  if (format === 'jsonpath') parseTemplate(template);
  else if (format === 'custom-columns') for (const column of parseColumns(template)) findResults(column.expression, {});
}

/** Go's fmt.Sprint of a decoded JSON value, which is how kubectl prints a custom column's results. */
function goSprint(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (Array.isArray(value)) return `[${value.map(goSprint).join(' ')}]`;
  if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return `map[${Object.keys(record).sort().map((key) => `${key}:${goSprint(record[key])}`).join(' ')}]`;
  }
  return String(value);
}

/**
 * Lines laid out as Go's text/tabwriter does for kubectl (minimum width 6, padding 3): every cell but the
 * last is padded to its column's width.
 */
function tabwrite(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, column) => (widths[column] = Math.max(widths[column] ?? 0, 6, cell.length + 3)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('')).join('\n');
}

/** One row per object; the widths are those of these rows alone, as kubectl computes them per print. */
export function renderCustomColumns(spec: string, items: unknown[], headers: boolean): string {
  const columns = parseColumns(spec);
  const rows = items.map((item) =>
    columns.map((column) => {
      const values = findResults(column.expression, item);
      return values.length === 0 ? '<none>' : values.map(goSprint).join(',');
    }),
  );
  return tabwrite(headers ? [columns.map((column) => column.header), ...rows] : rows);
}

/**
 * Prints `document` (and its `items`) in a template format, if one was asked for; false when the command's
 * own printing (table, wide, json, yaml, name) applies.
 */
export function printTemplated(out: Output, document: unknown, items: unknown[], headers = true): boolean {
  if (out.format === 'jsonpath') {
    out.write(renderJsonPath(out.template ?? '', document));
    return true;
  }
  // With no objects the command says so on stderr, as kubectl's "No resources found" does.
  if (out.format === 'custom-columns' && items.length > 0) {
    out.result(renderCustomColumns(out.template ?? '', items, headers));
    return true;
  }
  return false;
}
