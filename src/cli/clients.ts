import { Option } from '@commander-js/extra-typings';
import { usageError } from '../errors.js';
import { collect, envFormatChoices, examples, explicitFlag, instanceName, keyOptions, listenPort, timeoutOption } from './flags.js';
import type { Registration } from './surface.js';

/** The commands that talk to an instance's web endpoint: chat, models, env, proxy and mcp. */

/** Where the endpoint is and how its key is found: the flags keyOptions() adds, plus --url. */
function endpoint(instance: string, options: { url?: string; key?: string; keyFile?: string; allowHttp?: boolean }) {
  return { instance, url: options.url, key: options.key, keyFile: options.keyFile, allowHttp: Boolean(options.allowHttp) };
}

export const registerChat: Registration = {
  name: 'chat',
  register({ program, run, modules }) {
    keyOptions(program.command('chat'))
      .argument('<instance>', 'the instance', instanceName)
      .argument('[message]', 'the message')
      .description('talk to an instance through its OpenAI-compatible web endpoint')
      .option('-m, --message <text>', 'the message (else the argument, else stdin when piped, else an interactive session)')
      .option('-s, --system <text>', 'a system message')
      .option('--stream', 'print tokens as they arrive (default on a terminal)')
      .option('--no-stream', 'wait for the whole answer')
      .option('--url <base URL>', 'the endpoint, e.g. https://demo.example.com (skips the cluster lookup)')
      .addOption(new Option('--history <mode>', 'how earlier turns reach the agent').choices(['fold', 'send', 'none'] as const).default('fold' as const))
      .addOption(timeoutOption('how long one answer may take', '15m'))
      .option('--json', 'print the full response and the run status as one JSON document')
      .option('--cancel-on-interrupt', 'Ctrl-C also cancels the run the question started (default on a terminal)')
      .option('--no-cancel-on-interrupt', 'Ctrl-C stops waiting and leaves the run going')
      .addHelpText(
        'after',
        examples(
          'sympozium chat demo "what pods are failing?"',
          'echo "summarise this" | sympozium chat demo',
          'sympozium chat demo                        # interactive: /system, /reset, /exit',
          'sympozium chat demo -m hi --url https://demo.example.com --key-file ~/.sympozium-key',
        ),
      )
      .action((instance, message, options, command) =>
        run(command, async (ctx) => {
          await (await modules.chat()).chat(
            {
              ...endpoint(instance, options),
              message: options.message ?? message,
              system: options.system,
              stream: options.stream,
              streamExplicit: command.getOptionValueSource('stream') === 'cli',
              history: options.history,
              timeoutMs: options.timeout,
              json: Boolean(options.json),
              cancelOnInterrupt: explicitFlag(command, 'cancelOnInterrupt', options.cancelOnInterrupt),
            },
            ctx,
          );
        }),
      );
  },
};

export const registerModels: Registration = {
  name: 'models',
  register({ program, run, modules }) {
    keyOptions(program.command('models'))
      .argument('<instance>', 'the instance', instanceName)
      .description('list the models the web endpoint offers (GET /v1/models)')
      .option('--url <base URL>', 'the endpoint (skips the cluster lookup)')
      .addHelpText('after', examples('sympozium models demo', 'sympozium models demo -o json'))
      .action((instance, options, command) =>
        run(command, async (ctx) => {
          await (await modules.models()).models(endpoint(instance, options), ctx);
        }),
      );
  },
};

export const registerEnv: Registration = {
  name: 'env',
  register({ program, run, modules }) {
    keyOptions(program.command('env'))
      .argument('<instance>', 'the instance', instanceName)
      .description('print OPENAI_BASE_URL, OPENAI_API_KEY and the model for other clients, or with --mcp an mcpServers entry')
      .option('--reveal', 'print the real key (the default shell lines mask it)')
      .addOption(new Option('--format <format>', 'shell (default), or a format for programs, which carries the real key').choices(envFormatChoices))
      .option('--mcp', 'print an mcpServers JSON entry (url and Authorization header) for MCP clients instead')
      .option('--url <base URL>', 'the endpoint (skips the cluster lookup)')
      .option('--port <port>', 'without a public URL: the port `sympozium proxy` would listen on (default 8080)', listenPort)
      .addHelpText(
        'after',
        examples(
          'sympozium env demo                                  # masked, to read',
          'eval "$(sympozium env demo --reveal)"               # then any OpenAI SDK or tool works',
          'sympozium env demo --format dotenv > .env',
          'sympozium env demo --format fish | source',
          'sympozium env demo --format powershell | Invoke-Expression',
          'sympozium env demo --mcp --reveal > .mcp.json',
        ),
      )
      .action((instance, options, command) =>
        run(command, async (ctx) => {
          await (await modules.env()).env(
            { ...endpoint(instance, options), reveal: Boolean(options.reveal), format: options.format, mcp: Boolean(options.mcp), port: options.port },
            ctx,
          );
        }),
      );
  },
};

export const registerProxy: Registration = {
  name: 'proxy',
  register({ program, run, modules }) {
    keyOptions(program.command('proxy'))
      .argument('<instance>', 'the instance', instanceName)
      .description('a local OpenAI-compatible and MCP endpoint for the instance, which adds its key itself')
      .addOption(new Option('--port <port>', 'port to listen on (0: any free one)').argParser(listenPort).default(8080))
      .option('--address <ip>', 'address to listen on; anything but loopback lets others use the key', '127.0.0.1')
      .option('--local-key [key]', 'require this key from local clients (alone: generate one and print it)')
      .addOption(new Option('--format <format>', 'how to print the lines that point clients here').choices(envFormatChoices))
      .option('--mcp', 'print an mcpServers JSON entry for this proxy instead of the variables')
      .option('--url <base URL>', 'the endpoint (skips the cluster lookup)')
      .addHelpText(
        'after',
        examples(
          'sympozium proxy demo                                # http://127.0.0.1:8080/v1 and /sse',
          'sympozium proxy demo --port 9000 > proxy.env &      # then: source proxy.env',
          'sympozium proxy demo --local-key                    # clients must send the printed key',
          'sympozium proxy demo --address 0.0.0.0 --local-key  # reachable from other machines',
          'OPENAI_BASE_URL=http://127.0.0.1:8080/v1 OPENAI_API_KEY=sympozium-proxy python app.py',
        ),
      )
      .action((instance, options, command) =>
        run(command, async (ctx) => {
          await (await modules.proxy()).proxy(
            {
              ...endpoint(instance, options),
              port: options.port,
              address: options.address,
              localKey: options.localKey,
              format: options.format,
              mcp: Boolean(options.mcp),
            },
            ctx,
          );
        }),
      );
  },
};

export const registerMcp: Registration = {
  name: 'mcp',
  register({ program, run, modules }) {
    keyOptions(program.command('mcp'))
      .argument('<instance>', 'the instance', instanceName)
      .argument('<action>', 'tools, call or serve')
      .argument('[tool]', 'the tool to call')
      .description('the MCP endpoint: `tools` lists the tools, `call <tool>` calls one, `serve --stdio` serves it over stdio')
      .option('--arg <k=v>', 'an argument for call (repeatable)', collect)
      .option('--stdio', 'with serve: speak MCP on stdin/stdout (what Claude Code, Claude Desktop and Cursor launch)')
      .option('--cancel-on-interrupt', 'with call: Ctrl-C also cancels the run the call started (default on a terminal)')
      .option('--no-cancel-on-interrupt', 'with call: Ctrl-C stops waiting and leaves the run going')
      .option('--url <base URL>', 'the endpoint (skips the cluster lookup)')
      .addOption(timeoutOption('how long a call may take', '15m'))
      .addHelpText(
        'after',
        examples(
          'sympozium mcp demo tools',
          'sympozium mcp demo call ask_agent --arg task="list the pods"',
          'claude mcp add sympozium -- sympozium mcp demo serve --stdio',
          '{"mcpServers": {"sympozium": {"command": "sympozium", "args": ["mcp", "demo", "serve", "--stdio"]}}}',
        ),
      )
      .action((instance, action, tool, options, command) =>
        run(command, async (ctx) => {
          const target = endpoint(instance, options);
          // The one command whose formats depend on an argument; the rest of the rule is cli.ts's outputFormatsOf.
          if (ctx.globals.outputExplicit && ctx.globals.output !== 'table' && (action === 'serve' || (action === 'call' && ctx.globals.output === 'name'))) {
            throw usageError(`-o ${ctx.globals.output} is not supported by \`sympozium mcp ${action}\``, action === 'serve' ? 'It speaks MCP on stdout; leave -o out.' : 'It prints text (no -o), -o json, -o yaml.');
          }
          if (action === 'serve') {
            if (!options.stdio) throw usageError('mcp serve needs --stdio, the transport it serves', `Run \`sympozium mcp ${instance} serve --stdio\`; for MCP over HTTP, \`sympozium proxy ${instance}\` serves /sse.`);
            await (await modules.mcpServe()).serveMcp(target, ctx);
            return;
          }
          if (action !== 'tools' && action !== 'call') {
            throw usageError(`unknown mcp action "${action}"`, 'Use `sympozium mcp <instance> tools`, `sympozium mcp <instance> call <tool>` or `sympozium mcp <instance> serve --stdio`.');
          }
          if (action === 'call' && !tool) throw usageError('mcp call needs a tool name', 'List them with `sympozium mcp <instance> tools`.');
          await (await modules.mcp()).mcp(
            { ...target, action, tool, args: options.arg ?? [], timeoutMs: options.timeout, cancelOnInterrupt: explicitFlag(command, 'cancelOnInterrupt', options.cancelOnInterrupt) },
            ctx,
          );
        }),
      );
  },
};
