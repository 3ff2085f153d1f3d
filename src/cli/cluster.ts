import { Option } from '@commander-js/extra-typings';
import { examples, instanceName, positiveInteger, releaseChoices } from './flags.js';
import type { Registration } from './surface.js';

/** The commands about the cluster and the CLI itself: doctor, dev, completion and version. */

export const registerDoctor: Registration = {
  name: 'doctor',
  register({ program, run, modules }) {
    program
      .command('doctor')
      .argument('[instance]', 'also check this instance: reconciled, its policy, provider Secrets and SkillPacks, its web endpoint', instanceName)
      .description("check the cluster (reachable, Sympozium CRDs and kind, controller, web-endpoint SkillPack, RBAC) and the namespace's instances")
      .addHelpText('after', examples('sympozium doctor', 'sympozium doctor demo', 'sympozium doctor --context prod -o json'))
      .action((instance, _options, command) =>
        run(command, async (ctx) => {
          await (await modules.doctor()).doctor({ instance }, ctx);
        }),
      );
  },
};

const stateDirHelp = 'where state, logs and the kubeconfig live (default: per-user directory)';

export const registerDev: Registration = {
  name: 'dev',
  register({ program, run, modules }) {
    const dev = program
      .command('dev')
      .description('the local control plane: a Kubernetes-compatible API with the Sympozium controller, no cluster needed')
      .addHelpText('after', examples('sympozium dev up', 'eval "$(sympozium dev env)"', 'sympozium dev status', 'sympozium dev down'));
    dev
      .command('up')
      .description('start it in the background and write its kubeconfig')
      .option('--foreground', 'run in this terminal until Ctrl-C')
      .option('--port <port>', 'API server port (default: a free one)', positiveInteger('--port'))
      .option('--persist', 'keep objects across restarts')
      .option('--merge-kubeconfig', 'also add a sympozium-dev context to your kubeconfig')
      .addOption(new Option('--release <release>', 'the upstream Sympozium release to run: its CRDs, built-ins and controller (default: v0.5.8, or what a --persist state holds)').choices(releaseChoices))
      .option('--state-dir <dir>', stateDirHelp)
      .addHelpText('after', examples('sympozium dev up', 'sympozium dev up --release v0.10.46', 'sympozium dev up --persist --merge-kubeconfig', 'sympozium dev up --foreground'))
      .action((options, command) =>
        run(command, async (ctx) => {
          await (await modules.dev()).devUp(
            {
              foreground: Boolean(options.foreground),
              port: options.port,
              persist: Boolean(options.persist),
              mergeKubeconfig: Boolean(options.mergeKubeconfig),
              stateDir: options.stateDir,
              release: options.release,
            },
            ctx,
          );
        }),
      );
    for (const [verb, description] of [
      ['down', 'stop it and remove its kubeconfig context'],
      ['status', 'address, uptime, objects, log file'],
      ['env', 'print the export line for its kubeconfig'],
      ['logs', 'print the controller and proxy log'],
    ] as const) {
      dev
        .command(verb)
        .description(description)
        .option('--state-dir <dir>', stateDirHelp)
        .action((options, command) =>
          run(command, async (ctx) => {
            const module = await modules.dev();
            const action = { down: module.devDown, status: module.devStatus, env: module.devEnv, logs: module.devLogs }[verb];
            await action({ stateDir: options.stateDir }, ctx);
          }),
        );
    }
  },
};

export const registerCompletion: Registration = {
  name: 'completion',
  register({ program, run, modules }) {
    program
      .command('completion <shell>')
      .description('print a shell completion script (bash, zsh or fish)')
      .addHelpText(
        'after',
        examples(
          'source <(sympozium completion bash)',
          'sympozium completion zsh > "${fpath[1]}/_sympozium"',
          'sympozium completion fish > ~/.config/fish/completions/sympozium.fish',
        ),
      )
      .action((shell, _options, command) =>
        run(command, async (ctx) => {
          await (await modules.completion()).completion({ shell }, ctx);
        }),
      );
  },
};

export const registerVersion: Registration = {
  name: 'version',
  register({ program, run, modules, version }) {
    program
      .command('version')
      .description('this client, the API server and the Sympozium release and kinds the cluster serves')
      .option('--client', 'only this client; no cluster needed')
      .addHelpText('after', examples('sympozium version', 'sympozium version -o json', 'sympozium version --client'))
      .action((options, command) =>
        run(command, async (ctx) => {
          await (await modules.version()).version({ client: version, clientOnly: Boolean(options.client) }, ctx);
        }),
      );
  },
};
