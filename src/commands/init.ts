import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Context } from '../context.js';
import { CliError, usageError } from '../errors.js';
import { writeFileAtomic } from '../files/atomic-write.js';
import { parseManifests } from '../sympozium/manifests.js';
import { kubectlSecretCommand, providers, scaffold, secretKeys, type InitAnswers } from '../sympozium/scaffold.js';
import { formatProblem, hasErrors, validateDocuments } from '../sympozium/validate.js';
import { existingTarget, gatherAnswers, refuseOverwrite, type InitOptions } from './init-questions.js';

export type { InitOptions } from './init-questions.js';

export async function init(options: InitOptions, ctx: Context): Promise<void> {
  if (options.apply && options.out === '-') {
    throw usageError('--apply needs a file, and --out - writes to stdout', 'Drop --out - (init writes <name>.yaml), or pipe: sympozium init ... --out - | sympozium apply -f -');
  }
  const answers = await gatherAnswers(options, ctx);
  const target = options.out ?? `${answers.name}.yaml`;
  const file = target === '-' ? undefined : path.resolve(ctx.cwd, target);
  const result = scaffold(answers);
  assertValid(result.text);

  if (!file) {
    ctx.out.write(result.text);
  } else {
    if (!options.force && existingTarget(file)) throw refuseOverwrite(target);
    try {
      writeFileAtomic(file, result.text, { mode: result.holdsKey ? 0o600 : 0o644, overwrite: Boolean(options.force), secret: result.holdsKey });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw refuseOverwrite(target);
      if (error instanceof CliError) throw error;
      throw new CliError(`cannot write ${target}: ${(error as Error).message}`, { cause: error, hint: 'Choose another place with --out <file>.' });
    }
    ctx.out.success(`wrote ${target}: Secret ${result.secretName} and ${answers.kind ?? 'SympoziumInstance'} ${answers.name}${result.holdsKey ? ' (mode 0600: it holds your key)' : ''}`);
  }
  printNextSteps(answers, result, target, options, ctx);
  if (options.apply && file) await applyResult(file, result, answers, ctx);
}

/**
 * Hands the file to apply. A placeholder Secret is never applied: it would put a fake key on the cluster, or
 * overwrite a real one created with kubectl. The instance alone goes through a temporary file instead (apply
 * takes paths), and the warning says how to create the Secret.
 */
async function applyResult(file: string, result: ReturnType<typeof scaffold>, answers: InitAnswers, ctx: Context): Promise<void> {
  const { apply } = await import('./apply.js');
  const options = { dryRun: undefined, forceConflicts: false, wait: false, timeoutMs: 120_000 };
  if (!result.placeholder) {
    await apply({ paths: [file], ...options }, ctx);
    return;
  }
  ctx.out.warn(`not applying Secret ${result.secretName}: it holds a placeholder. Create it with: ${kubectlSecretCommand(answers)}`);
  const dir = await mkdtemp(path.join(tmpdir(), 'sympozium-init-'));
  try {
    const instanceOnly = path.join(dir, path.basename(file));
    await writeFile(instanceOnly, result.instanceText, { mode: 0o600 });
    await apply({ paths: [instanceOnly], ...options }, ctx);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Everything init writes must pass validate; if it does not, that is a bug in sympozium, not the user's fault. */
function assertValid(text: string): void {
  const parsed = parseManifests(text, '<generated>');
  const problems = [...parsed.problems, ...validateDocuments(parsed.documents)];
  if (hasErrors(problems)) throw new Error(`init generated an invalid manifest:\n${problems.map(formatProblem).join('\n')}`);
}

function printNextSteps(answers: InitAnswers, result: ReturnType<typeof scaffold>, target: string, options: InitOptions, ctx: Context): void {
  const file = target === '-' ? '<file>' : target;
  const steps: string[] = target === '-' ? ['save the manifest to a file, or pipe it straight into: sympozium apply -f -'] : [];
  if (result.placeholder) {
    const [key] = secretKeys(answers.provider);
    ctx.out.warn(`${target === '-' ? 'the manifest' : file} holds a placeholder instead of your ${providers[answers.provider].label} key.`);
    steps.push(`create the Secret from your environment (then delete its document from ${target === '-' ? 'the manifest' : file}):`, `  ${kubectlSecretCommand(answers)}`);
    const keys = secretKeys(answers.provider);
    // Bedrock keeps three values; each is read from the variable of its own name unless KEY=VAR says otherwise.
    steps.push(
      keys.length > 1
        ? `  or export ${keys.slice(0, -1).join(', ')} and ${keys.at(-1)}, and run init again with --api-key-env ${key} to put them in the file`
        : `  or run init again with --api-key-env ${key} to put the key in the file`,
    );
  }
  for (const channel of answers.channels) steps.push(`create Secret ${channel.secret} with the ${channel.type} token before applying`);
  if (!options.apply) {
    steps.push(`sympozium validate -f ${file}`, `sympozium apply -f ${file} --wait`);
  }
  steps.push(answers.webEndpoint ? `sympozium chat ${answers.name} "hello"` : `sympozium enable web-endpoint ${answers.name}    # then: sympozium chat ${answers.name} "hello"`);
  ctx.out.hint(['Next:', ...steps.map((step) => `  ${step}`)].join('\n'));
}
