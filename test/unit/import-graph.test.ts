// The import rules of docs/architecture.md, checked over every file-level import (static, dynamic and type-only)
// of src/ and packages/: data flows cli -> commands -> domain -> clients, ui/ belongs to the command layer, the
// dev plane reaches the CLI's modules only through an allow-list, and the emulator is nobody's but dev/'s.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cycles, importEdges, listSources, type ImportEdge } from '../support/import-graph.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const files = listSources(root, ['src', 'packages', 'test']);
const edges = importEdges(root, files);
const shown = (list: ImportEdge[]) => list.map((edge) => `${edge.from} -> ${edge.to}${edge.typeOnly ? ' (type)' : ''}`);

/** The layers from the top; a file may import its own layer and those below it, never one above. */
const ranks = { entry: 4, commands: 3, domain: 2, clients: 1, neutral: 0 } as const;
type Layer = keyof typeof ranks | 'ui' | 'dev' | 'emulator' | 'test';

function layerOf(file: string): Layer {
  if (file === 'src/cli.ts' || file === 'src/main.ts') return 'entry';
  if (file.startsWith('src/commands/')) return 'commands';
  if (/^src\/(sympozium|chat)\//.test(file)) return 'domain';
  if (/^src\/(kube|openai|mcp|files)\//.test(file)) return 'clients';
  if (file.startsWith('src/ui/')) return 'ui';
  if (file.startsWith('src/dev/')) return 'dev';
  if (file.startsWith('packages/kube-emulator/src/')) return 'emulator';
  if (/^src\/[^/]+\.ts$/.test(file)) return 'neutral';
  return 'test';
}

/**
 * The CLI modules the dev plane may use: the resource types and release data it serves, the cluster client its
 * controller watches with, the credential masking its agent applies to provider errors, and the atomic write of
 * its state file. Anything else dev/ needs belongs in dev/.
 */
const devAllowList = [
  'src/files/atomic-write.ts',
  'src/kube/client.ts',
  'src/kube/config.ts',
  'src/kube/errors.ts',
  'src/sympozium/releases.ts',
  'src/sympozium/secrets.ts',
  'src/sympozium/types.ts',
  'src/sympozium/web-endpoint.ts',
];

/** Bottom-layer packages that may use each other: MCP shares openai/'s transport, and anyone may write files. */
const clientPeers = (from: string, to: string) => to.startsWith('src/files/') || (from.startsWith('src/mcp/') && to.startsWith('src/openai/'));
const clientPackage = (file: string) => file.split('/')[1];

describe('the import graph', () => {
  it('is read from the sources (a rule over no edges would pass anything)', () => {
    expect(files.length).toBeGreaterThan(200);
    expect(edges.length).toBeGreaterThan(500);
    expect(edges).toContainEqual({ from: 'src/commands/chat.ts', to: 'src/chat/turn.ts', typeOnly: false });
    // A dynamic import counts as much as a static one.
    expect(edges).toContainEqual({ from: 'src/commands/mcp-serve.ts', to: 'src/mcp/relay.ts', typeOnly: false });
  });

  it('flows one way: cli -> commands -> domain (sympozium/, chat/) -> kube/, openai/, mcp/, files/', () => {
    const upward = edges.filter(({ from, to, typeOnly }) => {
      const a = layerOf(from);
      const b = layerOf(to);
      if (!(a in ranks) || !(b in ranks)) return false;
      // context.ts describes what commands receive (an Output, a Prompter, a KubeClient) and only as types.
      if (from === 'src/context.ts' && typeOnly) return false;
      if (ranks[a as keyof typeof ranks] < ranks[b as keyof typeof ranks]) return true;
      return a === 'clients' && b === 'clients' && clientPackage(from) !== clientPackage(to) && !clientPeers(from, to);
    });
    expect(shown(upward)).toEqual([]);
  });

  it('keeps ui/ for the command layer: imported only by commands/, cli.ts and main.ts, and importing nothing above it', () => {
    const wrong = edges.filter(({ from, to, typeOnly }) => {
      const a = layerOf(from);
      const b = layerOf(to);
      if (b === 'ui') return !['ui', 'commands', 'entry', 'test'].includes(a) && !(from === 'src/context.ts' && typeOnly);
      return a === 'ui' && b !== 'neutral';
    });
    expect(shown(wrong)).toEqual([]);
  });

  it('lets dev/ reach the CLI only through its allow-list, and only `sympozium dev` reach dev/', () => {
    const fromDev = edges.filter(({ from, to }) => layerOf(from) === 'dev' && to.startsWith('src/') && layerOf(to) !== 'dev');
    expect(shown(fromDev.filter(({ to }) => !devAllowList.includes(to)))).toEqual([]);
    // Every entry is used, so the list stays the real one.
    expect(devAllowList.filter((file) => !fromDev.some(({ to }) => to === file))).toEqual([]);
    const intoDev = edges.filter(({ from, to }) => layerOf(to) === 'dev' && layerOf(from) !== 'dev' && layerOf(from) !== 'test');
    expect(shown(intoDev.filter(({ from }) => from !== 'src/commands/dev.ts'))).toEqual([]);
  });

  it('keeps the emulator package to itself: imported only by dev/ and tests, and importing nothing of the CLI', () => {
    const wrong = edges.filter(({ from, to }) => {
      const a = layerOf(from);
      const b = layerOf(to);
      if (b === 'emulator') return a !== 'emulator' && a !== 'dev' && a !== 'test';
      return a === 'emulator';
    });
    expect(shown(wrong)).toEqual([]);
  });

  it('has no file-level import cycles in src/ or packages/ (type-only imports included)', () => {
    const product = edges.filter(({ from, to }) => layerOf(from) !== 'test' && layerOf(to) !== 'test');
    expect(cycles(product)).toEqual([]);
  });
});
