import { Option } from '@commander-js/extra-typings';
import { examples, releaseChoices, timeoutOption } from './flags.js';
import type { Registration } from './surface.js';

/** The commands that read manifests: validate, apply and migrate. */

export const registerValidate: Registration = {
  name: 'validate',
  register({ program, run, modules }) {
    program
      .command('validate')
      .description('check manifests offline against the bundled schemas')
      .requiredOption('-f, --filename <path...>', 'files, directories (recursive) or - for stdin')
      .option('--cluster', "also check against the cluster's own CRD schemas")
      .addOption(new Option('--release <release>', "judge Sympozium kinds by this release's CRDs (default: the document's own, else v0.5.8)").choices(releaseChoices))
      .addHelpText(
        'after',
        examples('sympozium validate -f demo.yaml', 'sympozium validate -f agent.yaml --release v0.10.46', 'sympozium validate -f manifests/ -o json', 'cat demo.yaml | sympozium validate -f -'),
      )
      .action((options, command) =>
        run(command, async (ctx) => {
          await (await modules.validate()).validate({ paths: options.filename, cluster: Boolean(options.cluster), release: options.release }, ctx);
        }),
      );
  },
};

export const registerApply: Registration = {
  name: 'apply',
  register({ program, run, modules }) {
    program
      .command('apply')
      .description('validate every document, then server-side apply them in dependency order')
      .requiredOption('-f, --filename <path...>', 'files, directories (recursive) or - for stdin')
      .addOption(new Option('--dry-run <mode>', 'only show what would happen').choices(['client', 'server'] as const))
      .option('--force-conflicts', 'take ownership of fields another manager owns')
      .option('--wait', 'wait until applied instances leave Pending')
      .addOption(timeoutOption('how long --wait may take', '2m'))
      .addHelpText(
        'after',
        examples('sympozium apply -f demo.yaml', 'sympozium apply -f manifests/ --wait', 'sympozium init demo --yes --out - | sympozium apply -f -'),
      )
      .action((options, command) =>
        run(command, async (ctx) => {
          await (await modules.apply()).apply(
            {
              paths: options.filename,
              dryRun: options.dryRun,
              forceConflicts: Boolean(options.forceConflicts),
              wait: Boolean(options.wait),
              timeoutMs: options.timeout,
            },
            ctx,
          );
        }),
      );
  },
};

export const registerMigrate: Registration = {
  name: 'migrate',
  register({ program, run, modules }) {
    program
      .command('migrate')
      .description('convert v0.5.8 manifests to v0.10.46 (Agent, Ensemble, agentRef), keeping comments and key order')
      .option('-f, --filename <path...>', 'files, directories (recursive) or - for stdin')
      .option('--out <dir|->', 'a directory to write the migrated files under (same relative names), or - for stdout', '-')
      .option('--force', 'with --out <dir>: replace files that exist')
      .option('--from-cluster', "read the namespace's v0.5 objects from the cluster instead of files (the cluster is only read)")
      .option('--include-runs', 'with --from-cluster: AgentRuns too (applying a run starts it again)')
      .addHelpText(
        'after',
        examples(
          'sympozium migrate -f demo.yaml                                # the v0.10.46 manifest on stdout',
          'sympozium migrate -f manifests/ --out manifests-v0.10/',
          'sympozium migrate -f manifests/ --out manifests/ --force      # in place',
          'cat demo.yaml | sympozium migrate -f - | sympozium validate -f - --release v0.10.46',
          'sympozium migrate --from-cluster -n team-a --out team-a/',
        ),
      )
      .action((options, command) =>
        run(command, async (ctx) => {
          await (await modules.migrate()).migrate(
            {
              paths: options.filename ?? [],
              out: options.out,
              force: Boolean(options.force),
              fromCluster: Boolean(options.fromCluster),
              includeRuns: Boolean(options.includeRuns),
            },
            ctx,
          );
        }),
      );
  },
};
