import { createInterface } from 'node:readline';
import type { Context } from '../context.js';
import { CliError, InterruptedError } from '../errors.js';
import type { EndpointClient } from '../openai/client.js';
import type { Connection } from './connect.js';
import { buildMessages, type HistoryMode, type Turn } from './conversation.js';
import { runTurn, type StartSpinner } from './turn.js';

/**
 * The interactive session: a prompt on the terminal, the history of the conversation, a few slash commands.
 * node:readline rather than inquirer, because a chat is a loop of free lines, not a form. Ctrl-C cancels
 * the answer in flight and keeps the session; at the prompt it clears the line, and twice on an empty line
 * leaves. Ctrl-D or /exit leaves.
 */

export interface SessionOptions {
  system?: string;
  history: HistoryMode;
  timeoutMs: number;
  stream: boolean;
  model: string;
  cancelOnInterrupt?: boolean;
  /** The command's spinner (ui/ is imported by commands only). */
  spinner?: StartSpinner;
}

const help = [
  '/system <text>  set the system message (/system alone clears it)',
  '/reset          forget the conversation so far (the system message stays)',
  '/history        show how many turns are remembered and how they are sent',
  '/exit           leave (or Ctrl-D)',
  'Ctrl-C cancels an answer in flight.',
].join('\n');

export async function runSession(ctx: Context, connection: Connection, client: EndpointClient, options: SessionOptions): Promise<void> {
  const out = ctx.out;
  const output = out.stdout as unknown as NodeJS.WritableStream;
  const rl = createInterface({ input: ctx.stdin, output, terminal: true, prompt: `${out.color.bold.cyan('you ›')} `, historySize: 200 });
  let system = options.system;
  let history: Turn[] = [];
  let inFlight: AbortController | undefined;
  let lastSigintAt = 0;

  out.info(
    out.errColor.dim(
      `Chatting with ${connection.target.instance} at ${connection.target.baseUrl} (${describeVia(connection.endpoint.via)}). ` +
        'Type /help for commands; Ctrl-D or /exit leaves.',
    ),
  );

  let interruptedByUser = false;
  rl.on('SIGINT', () => {
    if (inFlight) {
      inFlight.abort(new InterruptedError());
      return;
    }
    const now = Date.now();
    if (rl.line === '' && now - lastSigintAt < 2_000) {
      // Leaving by Ctrl-C is an interruption (exit 130), unlike Ctrl-D or /exit.
      interruptedByUser = true;
      rl.close();
      return;
    }
    lastSigintAt = now;
    // Clear the half-typed line and say how to leave, like a shell.
    rl.write(null, { ctrl: true, name: 'e' });
    rl.write(null, { ctrl: true, name: 'u' });
    output.write('\n');
    out.info(out.errColor.dim('(Ctrl-C again on an empty line, Ctrl-D or /exit to leave)'));
    rl.prompt();
  });

  const lines = rl[Symbol.asyncIterator]();
  // The session ends with the whole command when main's signal fires (a second Ctrl-C outside readline).
  const onAbort = () => rl.close();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    rl.prompt();
    for (;;) {
      const next = await lines.next();
      if (next.done) break;
      const line = next.value.trim();
      if (!line) {
        rl.prompt();
        continue;
      }
      if (line.startsWith('/')) {
        const command = line.split(/\s+/)[0]!;
        const argument = line.slice(command.length).trim();
        if (command === '/exit' || command === '/quit') break;
        if (command === '/help') out.info(help);
        else if (command === '/reset') {
          history = [];
          out.info(out.errColor.dim('(conversation forgotten)'));
        } else if (command === '/system') {
          system = argument || undefined;
          out.info(out.errColor.dim(system ? '(system message set)' : '(system message cleared)'));
        } else if (command === '/history') {
          out.info(out.errColor.dim(`(${history.length} earlier turn${history.length === 1 ? '' : 's'}, sent as: ${options.history})`));
        } else {
          out.info(out.errColor.dim(`unknown command ${command}; /help lists them`));
        }
        rl.prompt();
        continue;
      }

      inFlight = new AbortController();
      try {
        const messages = buildMessages({ system, history, message: line, mode: options.history });
        const result = await runTurn(ctx, connection, client, messages, {
          stream: options.stream,
          json: false,
          timeoutMs: options.timeoutMs,
          model: options.model,
          signal: inFlight.signal,
          spinner: options.spinner,
          cancelOnInterrupt: options.cancelOnInterrupt,
        });
        history.push({ user: line, assistant: result.content });
      } catch (error) {
        if (ctx.signal.aborted) throw error;
        if (inFlight.signal.aborted) out.info(out.errColor.dim('(answer cancelled)'));
        else if (error instanceof CliError) out.error(error.message, error.hint);
        else throw error;
      } finally {
        inFlight = undefined;
      }
      rl.prompt();
    }
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    rl.close();
    output.write('\n');
  }
  if (interruptedByUser) throw new InterruptedError();
}

function describeVia(via: Connection['endpoint']['via']): string {
  return { flag: 'from --url', status: "the instance's status URL", httproute: 'its HTTPRoute', 'port-forward': 'through a port-forward' }[via];
}
