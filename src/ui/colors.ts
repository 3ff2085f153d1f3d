import type { ChalkInstance } from 'chalk';

/**
 * Terminal colours, by chalk. Importing chalk (supports-color, and ESM facades for node:process, node:os and
 * node:tty) costs ~12 ms, more than the whole command surface, so it is loaded only when some stream will be
 * coloured (loadChalk); scripts, pipes and NO_COLOR never pay for it. Whether to colour at all is decided in
 * output.ts from --no-color, NO_COLOR, FORCE_COLOR and the TTY, as chalk's supports-color would.
 */

/** chalk's Chalk class, which makes an instance with a colour level of its own (stdout and stderr may differ). */
export type ChalkClass = new (options?: { level?: 0 | 1 | 2 | 3 }) => ChalkInstance;

const styleNames = ['red', 'green', 'yellow', 'cyan', 'gray', 'bold', 'dim'] as const;

/** A function that styles text, with the styles as properties so they chain: `style.bold.cyan('x')`. */
export type Style = ((text: string) => string) & { readonly [name in (typeof styleNames)[number]]: Style };

/** Text left as it is, whatever the chain of styles. */
function plainStyle(): Style {
  const style = ((text: string) => text) as Style;
  for (const name of styleNames) Object.defineProperty(style, name, { get: () => style });
  return style;
}

/** chalk at `level` when colour is on and chalk was loaded, else plain text. */
export function createStyle(level: 0 | 1 | 2 | 3, Chalk?: ChalkClass): Style {
  return level > 0 && Chalk ? (new Chalk({ level }) as unknown as Style) : plainStyle();
}

/** chalk's Chalk class, imported only when a stream is to be coloured. */
export async function loadChalk(levels: number[]): Promise<ChalkClass | undefined> {
  return levels.some((level) => level > 0) ? (await import('chalk')).Chalk : undefined;
}

/** Phase colours shared by every table that shows a phase: green good, yellow in progress, red failed. */
export function colorPhase(color: Style, phase: string, text = phase): string {
  switch (phase) {
    case 'Running':
    case 'Serving':
    case 'Succeeded':
      return color.green(text);
    case 'Failed':
    case 'Error':
      return color.red(text);
    case 'Pending':
    case 'PostRunning':
    case 'AwaitingDelegate':
      return color.yellow(text);
    default:
      return color.gray(text);
  }
}
