import { usageError } from '../errors.js';

/**
 * kubectl's JSONPath templates (`-o jsonpath=...`, `-o custom-columns=...`), as k8s.io/client-go/util/jsonpath
 * reads and prints them, which is not the JSONPath of other tools: text outside `{}` is printed as it is,
 * `{.a.b}` prints what the path finds (several results separated by a space), `{range .items[*]}...{end}`
 * repeats its body for each result with `@` and relative paths at that element, `{"\n"}` is a literal, and
 * `[?(@.x=="y")]` filters. Strings print bare; maps and lists print as compact JSON with sorted keys, as Go's
 * encoding/json does. A missing key prints nothing (kubectl's --allow-missing-template-keys default).
 */

type Step =
  | { kind: 'field'; name: string }
  | { kind: 'recursive'; name: string }
  | { kind: 'wildcard' }
  | { kind: 'index'; indexes: number[] }
  | { kind: 'slice'; start?: number; end?: number; step?: number }
  | { kind: 'filter'; path: Path; op?: string; value?: string | number | boolean };

interface Path {
  /** `$`: from the root even inside a range; otherwise from the current element. */
  root: boolean;
  steps: Step[];
}

type Node = { kind: 'text'; text: string } | { kind: 'path'; path: Path } | { kind: 'range'; path: Path; body: Node[] };

function templateError(template: string, why: string) {
  return usageError(`error parsing jsonpath ${template}: ${why}`, "kubectl's syntax: -o jsonpath='{.items[*].metadata.name}', {range .items[*]}...{end}, {\"\\n\"}.");
}

/** Parses a whole template into nodes; `{range}` without `{end}` and unclosed braces are errors. */
export function parseTemplate(template: string): Node[] {
  const stack: Node[][] = [[]];
  const ranges: Extract<Node, { kind: 'range' }>[] = [];
  let index = 0;
  while (index < template.length) {
    const open = template.indexOf('{', index);
    if (open < 0) {
      stack.at(-1)!.push({ kind: 'text', text: template.slice(index) });
      break;
    }
    if (open > index) stack.at(-1)!.push({ kind: 'text', text: template.slice(index, open) });
    const close = closingBrace(template, open);
    if (close < 0) throw templateError(template, 'unclosed action');
    const action = template.slice(open + 1, close).trim();
    index = close + 1;
    if (action === 'end') {
      if (ranges.length === 0) throw templateError(template, 'not in range, nothing to end');
      ranges.pop();
      stack.pop();
    } else if (action.startsWith('range ') || action.startsWith('range\t')) {
      const node = { kind: 'range' as const, path: parsePath(action.slice(6).trim(), template), body: [] as Node[] };
      stack.at(-1)!.push(node);
      ranges.push(node);
      stack.push(node.body);
    } else if (action.startsWith('"') || action.startsWith("'")) {
      stack.at(-1)!.push({ kind: 'text', text: unquote(action, template) });
    } else {
      stack.at(-1)!.push({ kind: 'path', path: parsePath(action, template) });
    }
  }
  if (ranges.length > 0) throw templateError(template, 'unclosed range');
  return stack[0]!;
}

/** The `}` that closes the action opened at `open`, skipping braces inside quoted strings. */
function closingBrace(template: string, open: number): number {
  let quote: string | undefined;
  for (let index = open + 1; index < template.length; index++) {
    const char = template[index]!;
    if (quote) {
      if (char === '\\') index++;
      else if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") quote = char;
    else if (char === '}') return index;
  }
  return -1;
}

const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'" };

function unquote(literal: string, template: string): string {
  const quote = literal[0]!;
  if (literal.length < 2 || !literal.endsWith(quote)) throw templateError(template, `unterminated string ${literal}`);
  return literal.slice(1, -1).replace(/\\(.)/g, (_, char: string) => escapes[char] ?? char);
}

function parsePath(text: string, template: string): Path {
  let index = 0;
  let root = false;
  if (text[0] === '$') {
    root = true;
    index = 1;
  } else if (text[0] === '@') index = 1;
  const steps: Step[] = [];
  const name = () => {
    const match = /^[^.[\]\s]*/.exec(text.slice(index))![0];
    index += match.length;
    return match;
  };
  while (index < text.length) {
    if (text.startsWith('..', index)) {
      index += 2;
      steps.push({ kind: 'recursive', name: name() });
    } else if (text[index] === '.') {
      index++;
      const field = name();
      if (field === '*') steps.push({ kind: 'wildcard' });
      else if (field !== '') steps.push({ kind: 'field', name: field });
    } else if (text[index] === '[') {
      const close = bracketEnd(text, index);
      if (close < 0) throw templateError(template, `unterminated array in ${text}`);
      steps.push(parseBracket(text.slice(index + 1, close).trim(), template));
      index = close + 1;
    } else throw templateError(template, `unrecognized character in action: ${text.slice(index)}`);
  }
  return { root, steps };
}

function bracketEnd(text: string, open: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let index = open; index < text.length; index++) {
    const char = text[index]!;
    if (quote) {
      if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") quote = char;
    else if (char === '[') depth++;
    else if (char === ']' && --depth === 0) return index;
  }
  return -1;
}

function parseBracket(inner: string, template: string): Step {
  if (inner === '*') return { kind: 'wildcard' };
  if (inner.startsWith('?(') && inner.endsWith(')')) {
    const expression = inner.slice(2, -1).trim();
    const match = /^(@[^=!<>\s]*)\s*(==|!=|<=|>=|<|>)\s*(.+)$/.exec(expression);
    if (!match) return { kind: 'filter', path: parsePath(expression, template) };
    return { kind: 'filter', path: parsePath(match[1]!, template), op: match[2], value: literal(match[3]!.trim(), template) };
  }
  if (/^['"]/.test(inner)) return { kind: 'field', name: unquote(inner, template) };
  if (inner.includes(':')) {
    const [start, end, step] = inner.split(':').map((part) => (part.trim() === '' ? undefined : integer(part, template)));
    return { kind: 'slice', start, end, step };
  }
  return { kind: 'index', indexes: inner.split(',').map((part) => integer(part, template)) };
}

function integer(text: string, template: string): number {
  const value = Number(text.trim());
  if (!Number.isInteger(value)) throw templateError(template, `invalid array index ${text.trim()}`);
  return value;
}

function literal(text: string, template: string): string | number | boolean {
  if (/^['"]/.test(text)) return unquote(text, template);
  if (text === 'true' || text === 'false') return text === 'true';
  const number = Number(text);
  if (Number.isNaN(number)) throw templateError(template, `unrecognized filter value ${text}`);
  return number;
}

type Value = unknown;
const isObject = (value: Value): value is Record<string, Value> => typeof value === 'object' && value !== null && !Array.isArray(value);

function evaluate(path: Path, root: Value, current: Value): Value[] {
  let values: Value[] = [path.root ? root : current];
  for (const step of path.steps) values = values.flatMap((value) => apply(step, value, root));
  return values;
}

function apply(step: Step, value: Value, root: Value): Value[] {
  switch (step.kind) {
    case 'field':
      return isObject(value) && step.name in value ? [value[step.name]] : [];
    case 'wildcard':
      return Array.isArray(value) ? value : isObject(value) ? Object.keys(value).sort().map((key) => value[key]) : [];
    case 'recursive':
      return descendants(value).flatMap((item) => (isObject(item) && step.name in item ? [item[step.name]] : []));
    case 'index':
      if (!Array.isArray(value)) return [];
      return step.indexes.flatMap((index) => {
        const at = index < 0 ? value.length + index : index;
        return at >= 0 && at < value.length ? [value[at]] : [];
      });
    case 'slice': {
      if (!Array.isArray(value)) return [];
      const clamp = (index: number) => Math.min(Math.max(index < 0 ? value.length + index : index, 0), value.length);
      const start = clamp(step.start ?? 0);
      const end = clamp(step.end ?? value.length);
      const stride = step.step ?? 1;
      const picked: Value[] = [];
      for (let index = start; index < end; index += Math.max(stride, 1)) picked.push(value[index]);
      return picked;
    }
    case 'filter': {
      const items = Array.isArray(value) ? value : [];
      return items.filter((item) => {
        const found = evaluate(step.path, root, item);
        if (step.op === undefined) return found.length > 0;
        return found.some((candidate) => compare(candidate, step.op!, step.value!));
      });
    }
  }
}

function descendants(value: Value): Value[] {
  const children = Array.isArray(value) ? value : isObject(value) ? Object.values(value) : [];
  return [value, ...children.flatMap(descendants)];
}

function compare(left: Value, op: string, right: string | number | boolean): boolean {
  if (op === '==') return left === right;
  if (op === '!=') return left !== right;
  if (typeof left !== typeof right || typeof left === 'boolean') return false;
  const [a, b] = [left as number | string, right as number | string];
  return op === '<' ? a < b : op === '>' ? a > b : op === '<=' ? a <= b : a >= b;
}

/** Go's json.Marshal of a decoded JSON value: sorted keys, `<`, `>` and `&` escaped. */
function goJson(value: Value): string {
  const sorted = (item: Value): Value =>
    Array.isArray(item) ? item.map(sorted) : isObject(item) ? Object.fromEntries(Object.keys(item).sort().map((key) => [key, sorted(item[key])])) : item;
  return JSON.stringify(sorted(value)).replace(/[<>&\u2028\u2029]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** One result as `-o jsonpath` prints it: strings bare, maps and lists as JSON. */
function text(value: Value): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return goJson(value);
  return String(value);
}

function render(nodes: Node[], root: Value, current: Value): string {
  let output = '';
  for (const node of nodes) {
    if (node.kind === 'text') output += node.text;
    else if (node.kind === 'path') output += evaluate(node.path, root, current).map(text).join(' ');
    else for (const item of evaluate(node.path, root, current)) output += render(node.body, root, item);
  }
  return output;
}

/** `-o jsonpath=<template>` applied to one object (a List for list commands), exactly what kubectl prints. */
export function renderJsonPath(template: string, value: Value): string {
  return render(parseTemplate(template), value, value);
}

/** The results of one path, for custom-columns; `{` `}` and the leading `.` are optional there. */
export function findResults(expression: string, value: Value): Value[] {
  const relaxed = /^\{?(.*?)\}?$/s.exec(expression.trim())![1]!;
  const path = relaxed.startsWith('.') || relaxed.startsWith('$') || relaxed.startsWith('@') || relaxed.startsWith('[') ? relaxed : `.${relaxed}`;
  return parseTemplate(`{${path}}`).flatMap((node) => (node.kind === 'path' ? evaluate(node.path, value, value) : []));
}
