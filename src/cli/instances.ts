import { examples, instanceName, names, timeoutOption } from './flags.js';
import type { Registration } from './surface.js';

/** `sympozium instances list|get|describe|delete` (aliases inst, agents, instance). */
export const registerInstances: Registration = {
  name: 'instances',
  aliases: ['inst', 'agents', 'instance'],
  register({ program, run, modules }) {
    const instances = program
      .command('instances')
      .aliases(['inst', 'agents', 'instance'])
      .description('list, inspect and delete SympoziumInstances')
      .addHelpText('after', examples('sympozium instances list -A', 'sympozium inst describe demo', 'sympozium instances delete demo'));
    instances
      .command('list')
      .alias('ls')
      .description('list instances: phase, model, skills, web endpoint, active pods')
      .option('-A, --all-namespaces', 'every namespace')
      .option('-l, --selector <selector>', 'label selector')
      .option('-w, --watch', 'after the list, print a line (with -o json an event) for every change')
      .option('--no-headers', 'no header row in the table, wide and custom-columns output')
      .addHelpText(
        'after',
        examples(
          'sympozium instances list',
          'sympozium instances list -A -o wide',
          'sympozium instances list -o name',
          "sympozium instances list -o jsonpath='{.items[*].metadata.name}'",
          'sympozium instances list -o custom-columns=NAME:.metadata.name,PHASE:.status.phase --no-headers',
          'sympozium instances list -w',
        ),
      )
      .action((options, command) =>
        run(command, async (ctx) => {
          await (await modules.instances()).listInstances(
            { allNamespaces: Boolean(options.allNamespaces), selector: options.selector, watch: Boolean(options.watch), headers: options.headers },
            ctx,
          );
        }),
      );
    instances
      .command('get')
      .argument('<name>', 'the instance', instanceName)
      .description('one instance (the whole object with -o json|yaml)')
      .option('--no-headers', 'no header row in the table, wide and custom-columns output')
      .addHelpText('after', examples('sympozium instances get demo', 'sympozium instances get demo -o yaml', "sympozium instances get demo -o jsonpath='{.status.phase}'"))
      .action((name, options, command) =>
        run(command, async (ctx) => {
          await (await modules.instances()).getInstance({ name, headers: options.headers }, ctx);
        }),
      );
    instances
      .command('describe')
      .argument('<name>', 'the instance', instanceName)
      .description('an instance in detail: spec, status, conditions, web endpoint and recent AgentRuns')
      .addHelpText('after', examples('sympozium instances describe demo'))
      .action((name, _options, command) =>
        run(command, async (ctx) => {
          await (await modules.instances()).describeInstance({ name }, ctx);
        }),
      );
    instances
      .command('delete')
      .argument('[names...]', 'the instances to delete', names(instanceName))
      .alias('rm')
      .description('delete instances and wait until their finalizers have run')
      .option('--all', 'every instance in the namespace (asks first; --yes without a terminal)')
      .option('-l, --selector <selector>', 'the instances matching this label selector (asks first; --yes without a terminal)')
      .option('--no-wait', 'return as soon as the deletion is accepted')
      .addOption(timeoutOption('how long to wait', '2m'))
      .addHelpText(
        'after',
        examples('sympozium instances delete demo', 'sympozium instances delete demo other --no-wait', 'sympozium instances delete -l team=search --yes'),
      )
      .action((names, options, command) =>
        run(command, async (ctx) => {
          await (await modules.instances()).deleteInstances(
            { names: names ?? [], all: Boolean(options.all), selector: options.selector, wait: options.wait, timeoutMs: options.timeout },
            ctx,
          );
        }),
      );
  },
};
