// The project's file-level import graph, read with the TypeScript compiler's preprocessor (ts.preProcessFile):
// it lists the import specifiers of a file without type-checking, so reading all of src/ stays cheap.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

export interface ImportEdge {
  from: string;
  to: string;
  /** `import type` and `export type … from` vanish from the build; they still count for layering. */
  typeOnly: boolean;
}

const emulatorEntry = 'packages/kube-emulator/src/index.ts';

/** Every .ts file under `dirs` (relative to `root`), as root-relative paths with forward slashes. */
export function listSources(root: string, dirs: string[]): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && entry.name !== 'fixtures') walk(path);
      } else if (/\.(ts|mts)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) files.push(path);
    }
  };
  for (const dir of dirs) if (existsSync(join(root, dir))) walk(dir);
  return files.sort();
}

/** Resolves a specifier the way tsconfig's NodeNext resolution and its one path alias do; undefined for packages. */
function resolveSpecifier(root: string, from: string, specifier: string): string | undefined {
  if (specifier === '@sympozium/kube-emulator') return emulatorEntry;
  if (!specifier.startsWith('.')) return undefined;
  const target = resolve(root, dirname(from), specifier);
  for (const candidate of [target.replace(/\.js$/, '.ts'), target.replace(/\.mjs$/, '.mts'), target, `${target}.ts`, join(target, 'index.ts')]) {
    if (existsSync(candidate) && !candidate.endsWith('.json')) return relative(root, candidate).split('\\').join('/');
  }
  return undefined;
}

/** The edges between project files (packages from node_modules are left out), including dynamic import(). */
export function importEdges(root: string, files: string[]): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const from of files) {
    const text = readFileSync(join(root, from), 'utf8');
    const info = ts.preProcessFile(text, true, true);
    for (const { fileName, pos } of info.importedFiles) {
      const to = resolveSpecifier(root, from, fileName);
      if (!to) continue;
      // preProcessFile does not say whether an import is type-only; the statement's start does.
      const lineStart = text.lastIndexOf('\n', pos) + 1;
      const typeOnly = /^\s*(import|export)\s+type\s/.test(text.slice(lineStart, pos));
      edges.push({ from, to, typeOnly });
    }
  }
  return edges;
}

/** File-level cycles (strongly connected components with more than one file, or a file importing itself). */
export function cycles(edges: ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) next.set(from, [...(next.get(from) ?? []), to]);
  // Tarjan's algorithm, iterative enough for a few hundred files.
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (node: string) => {
    indices.set(node, index);
    low.set(node, index++);
    stack.push(node);
    onStack.add(node);
    for (const target of next.get(node) ?? []) {
      if (!indices.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node)!, low.get(target)!));
      } else if (onStack.has(target)) low.set(node, Math.min(low.get(node)!, indices.get(target)!));
    }
    if (low.get(node) === indices.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (next.get(node) ?? []).includes(node)) components.push(component.sort());
    }
  };
  for (const node of new Set(edges.flatMap((edge) => [edge.from, edge.to]))) if (!indices.has(node)) visit(node);
  return components;
}
