import { createStyle, loadChalk, type ChalkClass, type Style } from './colors.js';
import { renderTable } from './table.js';

/** What -o selects; jsonpath and custom-columns carry a template (ui/output-flag.ts reads the flag). */
export const outputFormats = ['table', 'wide', 'json', 'yaml', 'name', 'jsonpath', 'custom-columns'] as const;
export type OutputFormat = (typeof outputFormats)[number];

export interface Writable {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

export interface OutputOptions {
  stdout: Writable;
  stderr: Writable;
  format?: OutputFormat;
  /** The template of -o jsonpath=... or -o custom-columns=... */
  template?: string;
  quiet?: boolean;
  verbose?: boolean;
  /**
   * Turns a value into YAML for `-o yaml`. The yaml package is a quarter of a megabyte, so main.ts loads it only
   * when that format was asked for and hands the function in here.
   */
  yamlStringify?: (value: unknown) => string;
  /** false forces colour off (`--no-color`); undefined means NO_COLOR / FORCE_COLOR and the TTY decide. */
  color?: boolean;
  env?: NodeJS.ProcessEnv;
  /** chalk, from loadOutputColors: without it, nothing is coloured. */
  Chalk?: ChalkClass;
}

/**
 * Everything a command prints goes through here: results on stdout, everything else on stderr, so that
 * `sympozium ... -o json | jq` always sees exactly one document.
 */
export class Output {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly format: OutputFormat;
  readonly template?: string;
  readonly quiet: boolean;
  readonly verbose: boolean;
  /** Colours for stdout. */
  readonly color: Style;
  /** Colours for stderr, which may be a terminal when stdout is a pipe. */
  readonly errColor: Style;
  private readonly yamlStringify?: (value: unknown) => string;

  constructor(options: OutputOptions) {
    this.yamlStringify = options.yamlStringify;
    this.stdout = options.stdout;
    this.stderr = options.stderr;
    this.format = options.format ?? 'table';
    this.template = options.template;
    this.quiet = options.quiet ?? false;
    this.verbose = options.verbose ?? false;
    this.color = createStyle(colorLevel(options, options.stdout), options.Chalk);
    this.errColor = createStyle(colorLevel(options, options.stderr), options.Chalk);
  }

  /** True when the user asked for a machine-readable format: no spinners, no decoration. */
  get machine(): boolean {
    return this.format !== 'table' && this.format !== 'wide';
  }

  /** A line of result on stdout. */
  result(text: string): void {
    this.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** Raw text on stdout, for streamed answers. */
  write(text: string): void {
    this.stdout.write(text);
  }

  /** One document in the chosen machine format (json unless yaml was asked for). */
  document(value: unknown): void {
    if (this.format === 'yaml' && this.yamlStringify) this.result(this.yamlStringify(value).trimEnd());
    else this.result(JSON.stringify(value, null, 2));
  }

  /** One compact JSON object per line, for streams (`runs tail -o json`). */
  jsonLine(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value)}\n`);
  }

  table(headers: string[], rows: string[][], options: { headers?: boolean } = {}): void {
    if (options.headers === false && rows.length === 0) return;
    this.result(renderTable(headers, rows, options));
  }

  /** Progress and information on stderr; silenced by --quiet. */
  info(message: string): void {
    if (!this.quiet) this.stderr.write(`${message}\n`);
  }

  success(message: string): void {
    this.info(`${this.errColor.green('✔')} ${message}`);
  }

  /** Warnings survive --quiet: they mean something may be wrong. */
  warn(message: string): void {
    this.stderr.write(`${this.errColor.yellow('warning:')} ${message}\n`);
  }

  /** What to run next; silenced by --quiet. */
  hint(message: string): void {
    this.info(this.errColor.dim(message));
  }

  /** Requests, timings and decisions, only with --verbose. Callers must never pass secrets. */
  debug(message: string): void {
    if (this.verbose) this.stderr.write(`${this.errColor.gray(message)}\n`);
  }

  error(message: string, hint?: string): void {
    this.stderr.write(`${this.errColor.red('error:')} ${message}\n`);
    if (hint) this.stderr.write(`${this.errColor.dim(hint)}\n`);
  }
}

/** chalk when these options colour stdout or stderr, else undefined (and chalk is not loaded). */
export function loadOutputColors(options: Pick<OutputOptions, 'stdout' | 'stderr' | 'color' | 'env'>): Promise<ChalkClass | undefined> {
  return loadChalk([colorLevel(options, options.stdout), colorLevel(options, options.stderr)]);
}

function colorLevel(options: Pick<OutputOptions, 'color' | 'env'>, stream: Writable): 0 | 1 | 2 | 3 {
  const env = options.env ?? process.env;
  if (options.color === false) return 0;
  if ('NO_COLOR' in env && env.NO_COLOR !== '') return 0;
  const force = env.FORCE_COLOR;
  if (force !== undefined) {
    if (force === '0' || force === 'false') return 0;
    const level = Number(force);
    return level >= 1 && level <= 3 ? (level as 1 | 2 | 3) : 1;
  }
  return stream.isTTY ? 1 : 0;
}
