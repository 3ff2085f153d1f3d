import { examples, instanceName, positiveInteger, secretName, timeoutOption } from './flags.js';
import type { Program, Registration } from './surface.js';

/** The web endpoint's life: enable web-endpoint, disable web-endpoint, key show and key rotate. */

// Created through program.command() so that they inherit exitOverride, help and suggestion settings.
const featureCommand = (program: Program, verb: 'enable' | 'disable') =>
  program
    .command(verb)
    .description(`${verb} a feature of an instance`)
    .addHelpText('after', examples(`sympozium ${verb} web-endpoint demo`));

export const registerEnable: Registration = {
  name: 'enable',
  register({ program, run, modules }) {
    featureCommand(program, 'enable')
      .command('web-endpoint')
      .argument('<instance>', 'the instance', instanceName)
      .description('serve the instance as an OpenAI-compatible API and wait until it answers')
      .option('--rpm <n>', 'rate limit: requests per minute (default 60)', positiveInteger('--rpm'))
      .option('--burst <n>', 'rate limit: burst size (default 10)', positiveInteger('--burst'))
      .option('--hostname <host>', 'public hostname for the HTTPRoute')
      .option('--auth-secret <name>', "use this Secret's api-key instead of a generated key", secretName('--auth-secret'))
      .option('--recreate', 'delete a Failed server run so the controller makes a new one (upstream never replaces it); asks first unless --yes')
      .option('--no-wait', 'return once the instance is updated')
      .addOption(timeoutOption('how long to wait until it serves', '5m'))
      .addHelpText(
        'after',
        examples(
          'sympozium enable web-endpoint demo',
          'sympozium enable web-endpoint demo --rpm 120 --burst 20 --hostname demo.example.com',
          'sympozium enable web-endpoint demo --recreate --yes    # after fixing what made its server run fail',
        ),
      )
      .action((instance, options, command) =>
        run(command, async (ctx) => {
          await (await modules.enable()).enableWebEndpoint(
            {
              instance,
              rpm: options.rpm,
              burst: options.burst,
              hostname: options.hostname,
              authSecret: options.authSecret,
              recreate: Boolean(options.recreate),
              wait: options.wait,
              timeoutMs: options.timeout,
            },
            ctx,
          );
        }),
      );
  },
};

export const registerDisable: Registration = {
  name: 'disable',
  register({ program, run, modules }) {
    featureCommand(program, 'disable')
      .command('web-endpoint')
      .argument('<instance>', 'the instance', instanceName)
      .description('stop serving the instance as an API and wait for the teardown')
      .option('--no-wait', 'return once the instance is updated')
      .addOption(timeoutOption('how long to wait for the teardown', '2m'))
      .addHelpText('after', examples('sympozium disable web-endpoint demo'))
      .action((instance, options, command) =>
        run(command, async (ctx) => {
          await (await modules.enable()).disableWebEndpoint({ instance, wait: options.wait, timeoutMs: options.timeout }, ctx);
        }),
      );
  },
};

export const registerKey: Registration = {
  name: 'key',
  register({ program, run, modules }) {
    const key = program
      .command('key')
      .description("the web endpoint's API key")
      .addHelpText('after', examples('sympozium key show demo', 'sympozium key show demo --reveal', 'sympozium key rotate demo'));
    key
      .command('show')
      .argument('<instance>', 'the instance', instanceName)
      .description('show the API key (masked unless --reveal) and the Secret it lives in')
      .option('--reveal', 'print the whole key')
      .addHelpText(
        'after',
        examples('sympozium key show demo', 'export SYMPOZIUM_API_KEY=$(sympozium key show demo --reveal)', 'sympozium key show demo -o json'),
      )
      .action((instance, options, command) =>
        run(command, async (ctx) => {
          await (await modules.key()).showKey({ instance, reveal: Boolean(options.reveal) }, ctx);
        }),
      );
    key
      .command('rotate')
      .argument('<instance>', 'the instance', instanceName)
      .description('write a new key, make the proxy use it, and wait until the old one is refused')
      .addOption(timeoutOption('how long to wait for the new key to work', '3m'))
      .option('--allow-http', 'allow the key checks over plain http:// to a host that is not loopback')
      .addHelpText('after', examples('sympozium key rotate demo'))
      .action((instance, options, command) =>
        run(command, async (ctx) => {
          await (await modules.key()).rotateKey({ instance, timeoutMs: options.timeout, allowHttp: Boolean(options.allowHttp) }, ctx);
        }),
      );
  },
};
