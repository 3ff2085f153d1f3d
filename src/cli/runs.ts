import { usageError } from '../errors.js';
import { duration, examples, explicitFlag, instanceName, names, nonNegativeInteger, positiveInteger, runName, runPhase, timeoutOption } from './flags.js';
import type { Registration } from './surface.js';

/** AgentRuns: `run` starts one, `runs` lists, inspects, follows, cancels and deletes them. */

export const registerRun: Registration = {
  name: 'run',
  register({ program, run, modules }) {
    program
      .command('run')
      .argument('<instance>', 'the instance', instanceName)
      .argument('[task]', 'the task (else -f, else piped stdin)')
      .description('run one task on an instance and follow it to the end: phases on stderr, the result on stdout')
      .option('-f, --filename <file>', 'read the task from a file, or - for stdin')
      .option('--no-wait', 'print the run name and return once it is created')
      .option('--logs', "stream the agent's log lines to stderr while following")
      .addOption(timeoutOption('how long to follow the run', '15m'))
      .option('--cancel-on-interrupt', 'Ctrl-C also cancels the run (default on a terminal)')
      .option('--no-cancel-on-interrupt', 'Ctrl-C stops following and leaves the run going')
      .addHelpText(
        'after',
        examples(
          'sympozium run demo "list the pods that restarted today"',
          'sympozium run demo -f task.md -o json | jq .status.result',
          'sympozium run demo "nightly report" --no-wait',
        ),
      )
      .action((instance, task, options, command) =>
        run(command, async (ctx) => {
          await (await modules.run()).runTask(
            {
              instance,
              task,
              file: options.filename,
              wait: options.wait,
              timeoutMs: options.timeout,
              cancelOnInterrupt: explicitFlag(command, 'cancelOnInterrupt', options.cancelOnInterrupt),
              logs: Boolean(options.logs),
            },
            ctx,
          );
        }),
      );
  },
};

export const registerRuns: Registration = {
  name: 'runs',
  register({ program, run, modules }) {
    const runs = program
      .command('runs')
      .description('AgentRuns: list, inspect and follow them live')
      .addHelpText('after', examples('sympozium runs list --instance demo', 'sympozium runs get demo-web-x7k2p', 'sympozium runs tail demo'));
    runs
      .command('list')
      .alias('ls')
      .description('AgentRuns, newest first')
      .option('--instance <name>', 'only runs of this instance', instanceName)
      .option('--source <source>', 'only runs from this source (web-proxy, channel, ...)')
      .option('--phase <phase>', 'only runs in this phase (Pending, Running, Serving, Succeeded, Failed)', runPhase)
      .option('-A, --all-namespaces', 'every namespace')
      .option('--limit <n>', 'at most this many', positiveInteger('--limit'))
      .option('-w, --watch', 'after the list, print a line (with -o json an event) for every change')
      .option('--no-headers', 'no header row in the table, wide and custom-columns output')
      .addHelpText(
        'after',
        examples(
          'sympozium runs list',
          'sympozium runs list --instance demo --phase Failed',
          'sympozium runs list -o json',
          "sympozium runs list -o jsonpath='{range .items[*]}{.metadata.name}{\"\\t\"}{.status.phase}{\"\\n\"}{end}'",
          'sympozium runs list -w -o json | jq -c .object.status.phase',
        ),
      )
      .action((options, command) =>
        run(command, async (ctx) => {
          await (await modules.runsList()).listRuns(
            {
              instance: options.instance,
              source: options.source,
              phase: options.phase,
              allNamespaces: Boolean(options.allNamespaces),
              limit: options.limit,
              watch: Boolean(options.watch),
              headers: options.headers,
            },
            ctx,
          );
        }),
      );
    runs
      .command('get')
      .argument('<run>', 'the AgentRun', runName)
      .description('one run: task, result, error, token usage, duration, pod')
      .option('--no-headers', 'no header row in the custom-columns output')
      .option('--logs', "then its pod's logs, as runs logs reads them (not with -o json|yaml|name)")
      .addHelpText(
        'after',
        examples('sympozium runs get demo-web-x7k2p', 'sympozium runs get demo-run-1764691200 --logs', 'sympozium runs get demo-web-x7k2p -o json', "sympozium runs get demo-web-x7k2p -o jsonpath='{.status.phase}'"),
      )
      .action((name, options, command) =>
        run(command, async (ctx) => {
          await (await modules.runs()).getRun({ name, logs: Boolean(options.logs), headers: options.headers }, ctx);
        }),
      );
    runs
      .command('logs')
      .argument('<run>', 'the AgentRun', runName)
      .description("the logs of the run's pod (the agent container unless -c or --all-containers); -f follows them")
      .option('-f, --follow', 'keep streaming (for a server run, onto the pod that replaces one that went)')
      .option('--tail <n>', 'only the last n lines', nonNegativeInteger('--tail'))
      .option('--since <duration>', 'only lines newer than this, e.g. 5m', duration('--since'))
      .option('-c, --container <name>', 'this container of the pod')
      .option('--all-containers', "every container, each line prefixed with the container's name")
      .option('--timestamps', 'prefix each line with its time (RFC 3339)')
      .addHelpText('after', examples('sympozium runs logs demo-run-1764691200', 'sympozium runs logs demo-web-endpoint -f --tail 20', 'sympozium runs logs demo-run-1764691200 --all-containers'))
      .action((name, options, command) =>
        run(command, async (ctx) => {
          if (options.container !== undefined && options.allContainers) throw usageError('-c and --all-containers both choose the containers: pass one');
          await (await modules.runsLogs()).runLogs(
            {
              name,
              follow: Boolean(options.follow),
              tail: options.tail,
              sinceMs: options.since,
              container: options.container,
              allContainers: Boolean(options.allContainers),
              timestamps: Boolean(options.timestamps),
            },
            ctx,
          );
        }),
      );
    for (const verb of ['cancel', 'delete'] as const) {
      runs
        .command(verb)
        .argument('[runs...]', 'the AgentRuns', names(runName))
        .description(
          verb === 'cancel'
            ? "stop runs still going, as upstream's abort does: the run is deleted and its Job and pod with it"
            : 'delete runs whatever their phase; their Jobs and pods go with them',
        )
        .option('--instance <name>', 'every run of this instance (asks first, or --yes)', instanceName)
        .option('--phase <phase>', 'with --instance, or alone: only runs in this phase', runPhase)
        .addHelpText(
          'after',
          examples(`sympozium runs ${verb} demo-web-x7k2p`, `sympozium runs ${verb} --instance demo${verb === 'delete' ? ' --phase Failed' : ''} --yes`),
        )
        .action((runNames, options, command) =>
          run(command, async (ctx) => {
            const module = await modules.runsRemove();
            const remove = verb === 'cancel' ? module.cancelRuns : module.deleteRuns;
            await remove({ names: runNames ?? [], instance: options.instance, phase: options.phase }, ctx);
          }),
        );
    }
    runs
      .command('tail')
      .argument('[instance]', 'only runs of this instance', instanceName)
      .description('follow AgentRun status changes live, one line per transition')
      .option('--run <name>', 'follow only this run', runName)
      .option('--since <duration>', 'also show runs that changed within this long ago', duration('--since'))
      .option('--until-done', 'with --run: exit when the run ends (0 Succeeded, 1 Failed)')
      .option('--wait-for-create', 'with --run: wait for a run that does not exist yet (else it is an error)')
      .option('--timeout <duration>', 'with --until-done: give up after this long (exit 1)', duration('--timeout'))
      .option('--source <source>', 'only runs from this source')
      .addHelpText(
        'after',
        examples('sympozium runs tail demo', 'sympozium runs tail --run demo-web-x7k2p --until-done', 'sympozium runs tail -o json | jq .phase'),
      )
      .action((instance, options, command) =>
        run(command, async (ctx) => {
          await (await modules.runsTail()).tailRuns(
            {
              instance,
              run: options.run,
              sinceMs: options.since,
              untilDone: Boolean(options.untilDone),
              source: options.source,
              waitForCreate: Boolean(options.waitForCreate),
              timeoutMs: options.timeout,
            },
            ctx,
          );
        }),
      );
  },
};
