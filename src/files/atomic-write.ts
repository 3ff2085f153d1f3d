import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, linkSync, lstatSync, openSync, readlinkSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { ExitCode, CliError } from '../errors.js';

/**
 * Every file the CLI and `sympozium dev` write goes through here. Two rules:
 * - only regular files are written. A device, FIFO, socket or directory is refused (exit 2), with --force or
 *   without: renaming a temporary file over `/dev/null` would replace the device for the whole machine.
 * - readers see the old file or the whole new one, never half of it: the text goes to a temporary file
 *   beside the target, then takes its name. A symlink is written through (the link stays, its target gets
 *   the text and keeps its mode), as editors do, so `~/.kube/config -> dotfiles/kubeconfig` survives.
 */

export interface WriteTarget {
  /** The path that will be replaced: the file itself, or the end of its symlink chain. */
  path: string;
  /** The existing file's permission bits; undefined when there is no file yet. */
  mode?: number;
}

/** Linux's limit on symlinks followed in one lookup (ELOOP). */
const maxSymlinks = 40;

/**
 * Where a write of `file` lands, following symlinks, or a usage error when that is not a regular file.
 * A dangling symlink resolves to the path it points at (the file is created there).
 */
export function resolveWriteTarget(file: string): WriteTarget {
  let current = path.resolve(file);
  for (let hops = 0; hops <= maxSymlinks; hops++) {
    let stats;
    try {
      stats = lstatSync(current);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { path: current };
      throw error;
    }
    if (stats.isSymbolicLink()) {
      current = path.resolve(path.dirname(current), readlinkSync(current));
      continue;
    }
    if (stats.isFile()) return { path: current, mode: stats.mode & 0o7777 };
    throw notRegular(file, current, stats.isDirectory() ? 'a directory' : describeSpecial(stats));
  }
  throw new CliError(`cannot write ${file}: too many levels of symbolic links`, { exitCode: ExitCode.usage });
}

function describeSpecial(stats: { isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

function notRegular(file: string, resolved: string, what: string): CliError {
  const where = resolved === path.resolve(file) ? file : `${file} (a link to ${resolved})`;
  return new CliError(`refusing to write ${where}: it is ${what}, not a regular file`, {
    exitCode: ExitCode.usage,
    hint: 'Name a regular file (it is created or, with --force, replaced); use - to print to stdout.',
  });
}

export interface AtomicWriteOptions {
  /** The mode of a new file, exact whatever the umask. An existing file keeps its own mode. */
  mode: number;
  /** Replace an existing file; without it an existing file (even one created meanwhile) is never touched. */
  overwrite: boolean;
  /** The text holds a secret: an existing file that others can read keeps only its owner's bits. */
  secret?: boolean;
}

/**
 * Writes `text` to `file` under the two rules above; throws an EEXIST errno error when the file exists and
 * overwrite is off. Synchronous: it is a handful of small syscalls, and dev's server calls it from handlers.
 */
export function writeFileAtomic(file: string, text: string, options: AtomicWriteOptions): WriteTarget {
  const target = resolveWriteTarget(file);
  if (target.mode !== undefined && !options.overwrite) {
    throw Object.assign(new Error(`${file} already exists`), { code: 'EEXIST' });
  }
  const mode = target.mode === undefined ? options.mode : options.secret ? target.mode & 0o700 : target.mode;
  const temporary = path.join(path.dirname(target.path), `.${path.basename(target.path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    // The umask may have taken bits away from the mode; a key file must be exactly what was asked.
    chmodSync(temporary, mode);
    if (options.overwrite) renameSync(temporary, target.path);
    else linkOrRename(temporary, target.path);
  } catch (error) {
    try {
      unlinkSync(temporary);
    } catch {
      // Already renamed into place, or never created.
    }
    throw error;
  }
  return { path: target.path, mode };
}

/** Takes the name with link(), which fails if the target exists, so even a file created meanwhile is kept. */
function linkOrRename(temporary: string, target: string): void {
  try {
    linkSync(temporary, target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Some filesystems cannot hard-link; fall back to rename after the existence check made above.
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EXDEV') {
      renameSync(temporary, target);
      return;
    }
    throw error;
  }
  unlinkSync(temporary);
}

/**
 * Opens a log for appending, only if it is (or will be) a regular file, with mode 0600 whatever the umask:
 * logs can quote what the server said, and that can be sensitive.
 */
export function openLogForAppend(file: string): number {
  const target = resolveWriteTarget(file);
  const fd = openSync(target.path, 'a', 0o600);
  // A log created before this rule, or under a loose umask, is narrowed too.
  if ((statSync(target.path).mode & 0o077) !== 0) chmodSync(target.path, 0o600);
  return fd;
}
