import { Option, type Command, type OptionValues } from '@commander-js/extra-typings';
import { usageError } from '../errors.js';
import { requireName } from '../kube/names.js';
import { parseDuration } from '../duration.js';

/**
 * Parsers and flag groups that several commands share. Each parser returns the typed value commander then
 * infers for the option, so the command functions receive numbers, milliseconds and checked names, never
 * strings to re-read.
 */

/** A repeatable flag's values, in the order given. */
export const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The flags every command that sends the endpoint's API key shares: where the key comes from, and http. */
export function keyOptions<Args extends unknown[], Opts extends OptionValues, Globals extends OptionValues>(command: Command<Args, Opts, Globals>) {
  return command
    .option('--key <key>', 'the API key (else --key-file, $SYMPOZIUM_API_KEY, the key Secret); other users can see it in `ps`')
    .option('--key-file <path>', 'read the API key from this file, or - for stdin (not visible in `ps`)')
    .option('--allow-http', 'allow sending the key over plain http:// to a host that is not loopback');
}

export function positiveInteger(flag: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed <= 0) throw usageError(`${flag} must be a positive whole number, not "${value}"`);
    return parsed;
  };
}

export function nonNegativeInteger(flag: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 0) throw usageError(`${flag} must be a whole number (0 or more), not "${value}"`);
    return parsed;
  };
}

/** A TCP port to listen on; 0 asks for any free one. */
export function listenPort(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535) throw usageError(`--port must be a port number from 0 to 65535, not "${value}"`);
  return parsed;
}

/** Formats of `env` and `proxy`: listed here rather than imported, so help loads nothing else. */
export const envFormatChoices = ['shell', 'dotenv', 'json', 'fish', 'powershell'] as const;

/** Releases `validate` and `dev up` know, listed rather than imported: the release data is large. */
export const releaseChoices = ['v0.5.8', 'v0.10.46'] as const;

/** A duration flag's value in milliseconds. */
export function duration(flag: string) {
  return (value: string): number => {
    const parsed = parseDuration(value);
    if (parsed === undefined || parsed <= 0) {
      throw usageError(`${flag} must be a duration such as 30s, 5m or 1h30m, not "${value}"`);
    }
    return parsed;
  };
}

/** `--timeout` in milliseconds, whose default help shows as a duration (`5m`), the form the flag itself takes. */
export function timeoutOption(description: string, defaultText: string) {
  return new Option('--timeout <duration>', description).argParser(duration('--timeout')).default(parseDuration(defaultText) ?? 0, defaultText);
}

/** Run phases, including the later upstream ones; matched without regard to case. */
const runPhases = ['Pending', 'Running', 'Serving', 'Succeeded', 'Failed', 'PostRunning', 'AwaitingDelegate', 'Skipped'];

export function runPhase(value: string): string {
  const phase = runPhases.find((candidate) => candidate.toLowerCase() === value.toLowerCase());
  if (!phase) throw usageError(`--phase must be one of ${runPhases.join(', ')}, not "${value}"`);
  return phase;
}

/**
 * Parsers for arguments and flags that name objects: a name the API server would refuse is refused here,
 * exit 2, before any request (an empty one would otherwise address the whole collection). Namespaces are
 * DNS labels; instances, runs and Secrets DNS subdomains, as the API server validates them.
 */
export const instanceName = (value: string) => requireName(value, 'subdomain', 'instance name');
export const runName = (value: string) => requireName(value, 'subdomain', 'run name');
export const secretName = (flag: string) => (value: string) => requireName(value, 'subdomain', flag);
export const namespaceName = (value: string) =>
  requireName(value, 'label', 'namespace', { hint: 'Pass a namespace name with -n, or leave -n out for the context\'s namespace (-A where a command lists every namespace).' });

/** Several names of one kind (`instances delete a b`), each checked as it is read. */
export const names = (parse: (value: string) => string) => (value: string, previous: string[] = []) => [...previous, parse(value)];

/**
 * Whether a flag with a `--no-` twin was given at all: `undefined` leaves the choice to the command (a
 * default that depends on the terminal), which commander's plain default cannot express.
 */
export function explicitFlag(command: { getOptionValueSource(key: string): string | undefined }, key: string, value: boolean | undefined): boolean | undefined {
  return command.getOptionValueSource(key) === 'cli' ? Boolean(value) : undefined;
}

export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  ${line}`).join('\n')}\n`;
}
