import { Option } from '@commander-js/extra-typings';
import { collect, examples, positiveInteger } from './flags.js';
import type { Registration } from './surface.js';

/** `sympozium init [name]`: every question of the scaffolder is also a flag. */
export const registerInit: Registration = {
  name: 'init',
  register({ program, run, modules }) {
    program
      .command('init [name]')
      .description('scaffold a SympoziumInstance or Agent manifest (and its provider Secret) from the bundled templates')
      .addOption(
        new Option('--kind <kind>', "SympoziumInstance (Sympozium v0.5) or Agent (v0.10); default: what the cluster serves, offline SympoziumInstance").choices([
          'SympoziumInstance',
          'Agent',
        ] as const),
      )
      .addOption(new Option('--provider <provider>', 'model provider').choices(['openai', 'anthropic', 'azure-openai', 'ollama', 'bedrock', 'custom'] as const))
      .option('--model <model>', 'model name (default depends on the provider)')
      .option('--base-url <url>', 'OpenAI-compatible base URL (custom, ollama, azure-openai)')
      .addOption(new Option('--thinking <level>', 'reasoning effort').choices(['off', 'low', 'medium', 'high'] as const))
      .option('--skill <ref[:k=v,...]>', 'a SkillPack to mount, with params (repeatable)', collect)
      .option('--policy <name>', "SympoziumPolicy in the instance's namespace: upstream's presets permissive, restrictive, network-isolated, or your own (default: none)")
      .option('--channel <type:secret>', 'a channel and its Secret, e.g. telegram:telegram-creds (repeatable)', collect)
      .option('--allowed-sender <id>', 'sender allowed to talk to the channels (repeatable)', collect)
      .option('--memory', 'enable memory')
      .option('--no-memory', 'disable memory')
      .option('--system-prompt <text>', 'system prompt kept in memory')
      .option('--observability <endpoint>', 'OpenTelemetry OTLP endpoint (enables observability)')
      .option('--web-endpoint', 'serve the instance as an OpenAI-compatible API (adds the web-endpoint skill)')
      .option('--rpm <n>', 'web endpoint rate limit: requests per minute', positiveInteger('--rpm'))
      .option('--burst <n>', 'web endpoint rate limit: burst size', positiveInteger('--burst'))
      .option('--hostname <host>', 'web endpoint hostname')
      .option('--api-key-env <VAR>', 'read the provider API key from this environment variable into the Secret (Bedrock: KEY=VAR pairs, comma-separated)')
      .option('--out <file>', 'where to write the manifest; - for stdout (default: <name>.yaml)')
      .option('--force', 'overwrite an existing file')
      .option('--apply', 'apply the result to the cluster right away')
      .addHelpText(
        'after',
        examples(
          'sympozium init                                    # answer the questions',
          'sympozium init demo --provider openai --model gpt-4.1 --yes',
          'sympozium init demo --kind Agent --yes                 # for Sympozium v0.10 and later',
          'sympozium init demo --provider ollama --base-url http://ollama:11434/v1 --web-endpoint --yes --out -',
          'OPENAI_API_KEY=sk-... sympozium init demo --api-key-env OPENAI_API_KEY --yes --apply',
        ),
      )
      .action((name, options, command) =>
        run(command, async (ctx) => {
          // --memory is declared before --no-memory, so neither given leaves memory undefined: the question stays open.
          await (await modules.init()).init({ ...options, name }, ctx);
        }),
      );
  },
};
