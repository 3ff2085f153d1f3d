import type { Context } from '../context.js';
import { usageError } from '../errors.js';
import { connect } from '../chat/connect.js';
import { buildMessages, type HistoryMode } from '../chat/conversation.js';
import { runTurn, type StartSpinner } from '../chat/turn.js';
import { EndpointClient } from '../openai/client.js';

export interface ChatOptions {
  instance: string;
  message?: string;
  system?: string;
  /** undefined: stream when stdout is a terminal. */
  stream?: boolean;
  streamExplicit: boolean;
  url?: string;
  key?: string;
  keyFile?: string;
  allowHttp?: boolean;
  history: HistoryMode;
  timeoutMs: number;
  json: boolean;
  /** undefined: cancel on Ctrl-C when a person is at a terminal. */
  cancelOnInterrupt?: boolean;
}

/**
 * `sympozium chat`: one question (argument, -m, or piped stdin) or, on a terminal with no message, an
 * interactive session. See src/chat/ for the parts: connect (endpoint, key), turn (one answer and its run),
 * session (the interactive loop).
 */
export async function chat(input: ChatOptions, ctx: Context): Promise<void> {
  // -o json|yaml asks for one document, which is what --json gives.
  const options = { ...input, json: input.json || ctx.out.format === 'json' || ctx.out.format === 'yaml' };
  let message = options.message;
  let interactive = false;
  if (message === undefined) {
    if (options.keyFile === '-') throw usageError('--key-file - reads the key from stdin, so the message cannot come from there too', `Pass the message as an argument: \`sympozium chat ${options.instance} "hello" --key-file -\`.`);
    if (!ctx.stdin.isTTY) message = await readAll(ctx.stdin);
    else if (ctx.interactive && !options.json) interactive = true;
    if (!interactive && !message?.trim()) {
      throw usageError('no message to send', `Pass one: \`sympozium chat ${options.instance} "hello"\`, -m "hello", or pipe it on stdin. On a terminal, run it without a message for a session.`);
    }
  } else if (!message.trim()) {
    throw usageError('the message is empty', `Pass some text: \`sympozium chat ${options.instance} "hello"\`.`);
  }

  // --json prints one document at the end, so there is nothing to stream unless asked for explicitly.
  const stream = options.streamExplicit ? Boolean(options.stream) : options.json ? false : (options.stream ?? Boolean(ctx.out.stdout.isTTY));
  // Loaded only when one starts: the spinner module pulls in ora.
  const spinner: StartSpinner = (text, spinnerOptions) => import('../ui/spinner.js').then(({ startSpinner }) => startSpinner(ctx, text, spinnerOptions));
  const connection = await connect(ctx, { instance: options.instance, url: options.url, key: options.key, keyFile: options.keyFile, allowHttp: options.allowHttp });
  const client = new EndpointClient(connection.target, { signal: ctx.signal, debug: (m) => ctx.out.debug(m), policy: connection.retryPolicy, idempotent: connection.idempotent, userAgent: 'sympozium-cli' });
  const model = connection.instanceObject?.spec?.agents?.default?.model ?? options.instance;
  const cancelOnInterrupt = options.cancelOnInterrupt ?? ctx.interactive;
  try {
    if (interactive) {
      const { runSession } = await import('../chat/session.js');
      await runSession(ctx, connection, client, { system: options.system, history: options.history, timeoutMs: options.timeoutMs, stream, model, cancelOnInterrupt, spinner });
      return;
    }
    const messages = buildMessages({ system: options.system, history: [], message: message!.trim(), mode: options.history });
    await runTurn(ctx, connection, client, messages, {
      stream,
      json: options.json,
      timeoutMs: options.timeoutMs,
      model,
      spinner: !ctx.out.machine && !options.json ? spinner : undefined,
      cancelOnInterrupt,
    });
  } finally {
    client.close();
    await connection.close();
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  stream.setEncoding('utf8');
  for await (const chunk of stream as AsyncIterable<string>) text += chunk;
  return text;
}
