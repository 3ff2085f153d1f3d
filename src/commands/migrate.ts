import { mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type { Context } from '../context.js';
import { CliError, ExitCode, usageError } from '../errors.js';
import { resolveWriteTarget, writeFileAtomic } from '../files/atomic-write.js';
import { eachManifestFile, type Problem } from '../sympozium/manifests.js';
import { migrateFile, migrateObject, stripServerFields, type DocumentReport } from '../sympozium/migrate.js';
import { kindRenames, sourceRelease, targetRelease } from '../sympozium/migrate-plan.js';
import { releaseData } from '../sympozium/releases.js';
import { group } from '../sympozium/types.js';
import { formatProblem, sortProblems } from '../sympozium/validate.js';

export interface MigrateOptions {
  paths: string[];
  /** A directory, or - for stdout. */
  out: string;
  /** Replace files that exist under --out. */
  force: boolean;
  /** Read the namespace's objects from the cluster instead of files. */
  fromCluster: boolean;
  /** With fromCluster: AgentRuns too. */
  includeRuns: boolean;
}

/** One migrated file (or object) waiting to be written once everything has been judged. */
interface Migrated {
  /** What it came from: a file as given, or namespace/Kind/name. */
  source: string;
  /** Its name under --out <dir>. */
  relative?: string;
  text: string;
  changed: boolean;
  mode: number;
}

/**
 * `sympozium migrate -f <path|dir|->... [--out <dir|->]` and `--from-cluster`: v0.5.8 manifests as v0.10.46
 * ones (src/sympozium/migrate.ts has the mapping). Everything is read, migrated and judged first; only when
 * nothing has a problem is anything written, to stdout or under the directory. The cluster is only read.
 */
export async function migrate(options: MigrateOptions, ctx: Context): Promise<void> {
  const machine = ctx.out.format === 'json' || ctx.out.format === 'yaml';
  const toStdout = options.out === '-';
  if (options.fromCluster && options.paths.length > 0) throw usageError('pass -f or --from-cluster, not both');
  if (!options.fromCluster && options.paths.length === 0) {
    throw usageError('nothing to migrate', 'Pass -f <file|directory|->, e.g. sympozium migrate -f demo.yaml, or --from-cluster for the namespace\'s objects.');
  }
  if (options.includeRuns && !options.fromCluster) throw usageError('--include-runs only applies with --from-cluster');
  if (options.force && toStdout) throw usageError('--force only applies with --out <dir>', 'Nothing is replaced when the manifests go to stdout.');
  if (machine && toStdout) {
    throw usageError(`-o ${ctx.out.format} prints a summary, but stdout carries the manifests with --out -`, `Pass --out <dir> to write the manifests there and get the summary on stdout.`);
  }
  if (!toStdout) {
    if (options.paths.includes('-')) throw usageError('-f - has no file name to write under --out <dir>', 'Print to stdout instead (--out -, the default).');
    checkOutDirectory(path.resolve(ctx.cwd, options.out), options.out);
  }

  const migrated = options.fromCluster ? await fromCluster(options, ctx) : await fromFiles(options, ctx);
  const { outputs, reports, problems } = migrated;

  if (problems.length > 0) {
    const sorted = sortProblems(problems);
    if (machine) ctx.out.document({ written: false, problems: sorted });
    else for (const problem of sorted) ctx.out.stderr.write(`${formatProblem(problem)}\n`);
    const files = new Set(sorted.map((problem) => problem.source)).size;
    throw new CliError(`${plural(sorted.length, 'problem')} in ${plural(files, options.fromCluster ? 'object' : 'file')}; nothing written`, {
      exitCode: ExitCode.usage,
      hint: options.fromCluster
        ? `The cluster holds objects ${targetRelease} cannot take as they are; fix them there or migrate their manifests with -f.`
        : `Fix them in the input and run migrate again; \`sympozium validate -f <file> --release ${sourceRelease}\` shows what ${sourceRelease} itself refuses.`,
    });
  }

  const { shown: written, summary } = toStdout ? { shown: writeStdout(outputs, ctx), summary: '' } : writeDirectory(outputs, options, ctx);
  const changedDocuments = reports.filter((report) => report.changes.length > 0).length;
  const changedFiles = outputs.filter((output) => output.changed).length;
  const passed = reports.length - changedDocuments + migrated.otherDocuments;
  if (machine) {
    ctx.out.document({
      written: true,
      migrated: changedDocuments,
      passedThrough: passed,
      files: outputs.map((output, index) => ({ source: output.source, target: written[index], changed: output.changed })),
      documents: reports,
    });
  }
  const from = options.fromCluster ? plural(changedFiles, 'object') : `${plural(changedDocuments, 'document')} in ${plural(changedFiles, 'file')}`;
  const where = summary ? ` (${summary})` : '';
  ctx.out.success(`migrated ${from}; ${passed} passed through${where}`);
  if (!toStdout && outputs.length > 0) ctx.out.hint(`Check them with: sympozium validate -f ${options.out} --release ${targetRelease}`);
}

function checkOutDirectory(absolute: string, shown: string): void {
  let info;
  try {
    info = statSync(absolute);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw cannotWrite(shown, error);
  }
  if (!info.isDirectory()) {
    throw usageError(`--out ${shown} is not a directory`, 'Name a directory (it is created if missing), or - for stdout; `--out - > file.yaml` writes one file.');
  }
}

async function fromFiles(options: MigrateOptions, ctx: Context) {
  const outputs: Migrated[] = [];
  const reports: DocumentReport[] = [];
  const problems: Problem[] = [];
  let otherDocuments = 0;
  for await (const file of eachManifestFile(options.paths, { cwd: ctx.cwd, stdin: ctx.stdin })) {
    // A list or a scalar document is not a Kubernetes object: nothing to migrate, so it passes through. Any
    // other problem (unreadable YAML, a duplicate key, a missing file) means the file cannot be judged.
    const fatal = file.problems.filter((problem) => problem.code !== 'not-an-object');
    if (fatal.length > 0 || file.text === undefined) {
      problems.push(...fatal);
      continue;
    }
    otherDocuments += file.problems.length;
    const result = migrateFile(file.source, file.text, file.documents);
    problems.push(...result.problems);
    reports.push(...result.documents);
    outputs.push({ source: file.source, relative: file.relative, text: result.text, changed: result.text !== file.text, mode: file.mode ?? 0o644 });
    ctx.out.debug(`migrate: ${file.source}: ${result.documents.filter((report) => report.changes.length > 0).length} of ${result.documents.length} documents changed`);
  }
  return { outputs, reports, problems, otherDocuments };
}

/** The order the objects are printed in, dependencies first, as apply would send them. */
const clusterKinds = ['SympoziumConfig', 'SympoziumPolicy', 'SkillPack', 'MCPServer', 'PersonaPack', 'SympoziumInstance', 'SympoziumSchedule', 'AgentRun'];

/**
 * The namespace's Sympozium objects of every v0.5.8 kind the cluster serves, without what the server set,
 * migrated. Only GETs: the cluster is never changed. AgentRuns are records of runs that happened, and applying
 * one (without its status) starts it again, so they are left out unless asked for.
 */
async function fromCluster(options: MigrateOptions, ctx: Context) {
  const [{ groupVersionResources }, { resourcePath }] = await Promise.all([import('../kube/discovery.js'), import('../kube/client.js')]);
  const kube = await ctx.kube();
  const namespace = kube.namespace;
  const version = 'v1alpha1';
  const resources = await groupVersionResources(kube, `${group}/${version}`);
  if (!resources) {
    throw new CliError(`${kube.describe()} does not serve ${group}/${version}: there are no Sympozium objects to migrate`, {
      hint: 'Check --context and --kubeconfig; `sympozium doctor` shows what the cluster serves.',
    });
  }
  const served = new Set(resources.map((resource) => resource.kind));
  if (!served.has('SympoziumInstance') && served.has('Agent')) {
    ctx.out.warn(`the cluster serves Agent, not SympoziumInstance: it runs ${targetRelease}-era CRDs already, so its objects are likely migrated`);
  }
  const outputs: Migrated[] = [];
  const reports: DocumentReport[] = [];
  const problems: Problem[] = [];
  const known = releaseData(sourceRelease).kinds;
  for (const kind of clusterKinds) {
    const resource = resources.find((candidate) => candidate.kind === kind);
    if (!resource || !known[kind]) {
      ctx.out.debug(`migrate: the cluster does not serve ${kind}`);
      continue;
    }
    const list = await kube.list(resourcePath({ group, version, plural: resource.name, namespace }));
    const items = [...list.items].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
    if (kind === 'AgentRun' && !options.includeRuns) {
      if (items.length > 0) {
        ctx.out.info(`left out ${plural(items.length, 'AgentRun')}: applying a run starts it again (--include-runs migrates them too)`);
      }
      continue;
    }
    for (const item of items) {
      const { apiVersion: _apiVersion, kind: _kind, ...rest } = item as unknown as Record<string, unknown>;
      const object = stripServerFields({ apiVersion: `${group}/${version}`, kind, ...rest });
      const name = String((object.metadata as { name?: string } | undefined)?.name ?? '');
      const result = migrateObject(object, `${namespace}/${kind}/${name}`);
      problems.push(...result.problems);
      reports.push(result.report);
      const newKind = kindRenames[kind] ?? kind;
      outputs.push({
        source: result.report.source,
        relative: `${newKind.toLowerCase()}-${name}.yaml`,
        text: stringify(result.object, { lineWidth: 0 }),
        changed: result.report.changes.length > 0,
        mode: 0o644,
      });
    }
  }
  if (outputs.length === 0) ctx.out.info(`no Sympozium objects to migrate in namespace ${namespace}`);
  return { outputs, reports, problems, otherDocuments: 0 };
}

/** The files one after another as one YAML stream; returns "-" for each. */
function writeStdout(outputs: Migrated[], ctx: Context): string[] {
  let stream = '';
  for (const output of outputs) {
    if (stream) {
      if (!stream.endsWith('\n')) stream += '\n';
      // A file that starts a document itself needs no separator; one with directives needs the end marker.
      if (output.text.startsWith('%')) stream += '...\n';
      else if (!/^---(\s|$)/.test(output.text)) stream += '---\n';
    }
    stream += output.text;
  }
  if (stream) ctx.out.write(stream.endsWith('\n') ? stream : `${stream}\n`);
  return outputs.map(() => '-');
}

/**
 * Each output under the directory, by its relative name. Every target is checked before the first is written:
 * two inputs with one name, or a file that exists without --force, and nothing is written.
 */
function writeDirectory(outputs: Migrated[], options: MigrateOptions, ctx: Context): { shown: string[]; summary: string } {
  const directory = path.resolve(ctx.cwd, options.out);
  const targets = outputs.map((output) => path.join(directory, output.relative!));
  const shown = outputs.map((output) => path.join(options.out, output.relative!));
  const seen = new Map<string, number>();
  targets.forEach((target, index) => {
    const earlier = seen.get(target);
    if (earlier !== undefined) {
      throw usageError(`${outputs[earlier]!.source} and ${outputs[index]!.source} would both be written to ${shown[index]}`, 'Migrate them in separate runs, or into separate --out directories.');
    }
    seen.set(target, index);
  });
  // Refuses a directory, device or FIFO in the way, --force or not.
  const exists = targets.map((target, index) => {
    try {
      return resolveWriteTarget(target).mode !== undefined;
    } catch (error) {
      throw error instanceof CliError ? error : cannotWrite(shown[index]!, error);
    }
  });
  // A target that already holds exactly this text is left alone: running migrate again changes nothing.
  const upToDate = targets.map((target, index) => exists[index]! && sameText(target, outputs[index]!.text));
  const existing = shown.filter((_, index) => exists[index] && !upToDate[index]);
  if (existing.length > 0 && !options.force) {
    const list = existing.length <= 5 ? existing.join(', ') : `${existing.slice(0, 5).join(', ')} and ${existing.length - 5} more`;
    throw usageError(
      `${existing.length === 1 ? `${list} already exists` : `${existing.length} files already exist: ${list}`}; nothing written`,
      'Pass --force to replace them, or choose another --out directory.',
    );
  }
  let written = 0;
  targets.forEach((target, index) => {
    if (upToDate[index]) return;
    try {
      makeDirectories(path.dirname(target));
      writeFileAtomic(target, outputs[index]!.text, { mode: outputs[index]!.mode, overwrite: options.force });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw usageError(`${shown[index]} appeared while migrate was writing; it was left alone`, 'Pass --force to replace it.');
      }
      throw error instanceof CliError ? error : cannotWrite(shown[index]!, error);
    }
    written++;
    ctx.out.debug(`migrate: wrote ${shown[index]}`);
  });
  const kept = outputs.length - written;
  return { shown, summary: `wrote ${plural(written, 'file')} under ${options.out}${kept > 0 ? `, ${kept} already up to date` : ''}` };
}

/**
 * mkdir -p, one level at a time. Node's own recursive mkdir never returns on some paths (a directory below
 * /proc, where mkdir fails with ENOENT although the parent exists: it retries for ever).
 */
function makeDirectories(directory: string): void {
  const missing: string[] = [];
  for (let current = directory; ; current = path.dirname(current)) {
    try {
      if (statSync(current).isDirectory()) break;
      throw Object.assign(new Error(`${current} is not a directory`), { code: 'ENOTDIR' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || path.dirname(current) === current) throw error;
      missing.unshift(current);
    }
  }
  for (const name of missing) {
    try {
      mkdirSync(name);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

function cannotWrite(shown: string, error: unknown): CliError {
  const code = (error as NodeJS.ErrnoException).code;
  const reason = code === 'ENAMETOOLONG' ? 'the name is too long' : code === 'ENOTDIR' ? 'a part of the path is a file, not a directory' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
  return new CliError(`cannot write ${shown}: ${reason}`, { exitCode: code === 'EACCES' ? ExitCode.failed : ExitCode.usage, cause: error, hint: 'Choose another --out directory, or - for stdout.' });
}

function sameText(file: string, text: string): boolean {
  try {
    return readFileSync(file, 'utf8') === text;
  } catch {
    return false;
  }
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
