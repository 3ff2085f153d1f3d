import type { Context } from '../context.js';
import { connect } from '../chat/connect.js';
import { EndpointClient } from '../openai/client.js';
import type { ModelList } from '../openai/types.js';

export interface ModelsOptions {
  instance: string;
  url?: string;
  key?: string;
  keyFile?: string;
  allowHttp?: boolean;
}

/** `sympozium models <instance>`: GET /v1/models, as a table or one document. */
export async function models(options: ModelsOptions, ctx: Context): Promise<void> {
  const connection = await connect(ctx, options);
  const client = new EndpointClient(connection.target, { signal: ctx.signal, debug: (m) => ctx.out.debug(m), policy: connection.retryPolicy });
  try {
    const list = await client.models(ctx.globals.requestTimeoutMs ?? 60_000);
    printModels(ctx, list);
  } finally {
    client.close();
    await connection.close();
  }
}

function printModels(ctx: Pick<Context, 'out' | 'now'>, list: ModelList): void {
  const out = ctx.out;
  const data = Array.isArray(list.data) ? list.data : [];
  if (out.format === 'json' || out.format === 'yaml') return out.document(list);
  if (out.format === 'name') {
    for (const model of data) out.result(model.id);
    return;
  }
  if (data.length === 0) {
    out.info('the web endpoint offers no models');
    return;
  }
  const created = (unix?: number) => (unix ? new Date(unix * 1000).toISOString().replace(/\.\d+Z$/, 'Z') : '');
  out.table(
    ['ID', 'OWNED BY', 'CREATED'],
    data.map((model) => [model.id, model.owned_by ?? '', created(model.created)]),
  );
}
