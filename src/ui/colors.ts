/**
 * Terminal colours. chalk would do this, but importing it (supports-color, and ESM facades for node:process,
 * node:os and node:tty) cost ~12 ms of every start-up on these machines (bench/: `--version` against `node -e 0`),
 * more than the whole command surface, and the CLI needs seven styles. Whether to colour at all is decided once,
 * in output.ts, from --no-color, NO_COLOR, FORCE_COLOR and the TTY, exactly as chalk would.
 */

const codes = {
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
  gray: [90, 39],
  bold: [1, 22],
  dim: [2, 22],
} as const;

type StyleName = keyof typeof codes;

/** A function that styles text, with the styles as properties so they chain: `style.bold.cyan('x')`. */
export type Style = ((text: string) => string) & { readonly [name in StyleName]: Style };

export function createStyle(enabled: boolean, open = '', close = ''): Style {
  const style = ((text: string) => (enabled && open ? `${open}${text}${close}` : text)) as Style;
  for (const [name, [on, off]] of Object.entries(codes)) {
    Object.defineProperty(style, name, { get: () => createStyle(enabled, `${open}\x1b[${on}m`, `\x1b[${off}m${close}`) });
  }
  return style;
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
