import { CliError } from '../errors.js';
import type { ResolvedKubeConfig } from './config.js';
import { KubeApiError } from './errors.js';
import type { WatchEvent } from './resources.js';

/** How the client reads what the API server sent back: a refusal, a watch line. */

/**
 * The server's refusal as a KubeApiError; a 401 that survived a fresh run of the exec plugin (or auth provider)
 * says so and names it, since logging in again through that tool is the next step, not a generic one.
 */
export function refusalError(config: ResolvedKubeConfig, where: string, status: number, text: string, method: string, path: string): KubeApiError {
  const error = KubeApiError.fromResponse(status, text, where, method, path);
  const exec = config.exec;
  if (status !== 401 || !(exec || config.authProvider)) return error;
  const source = exec ? `the exec plugin ${exec.command} (run again after the first 401)` : `the ${config.authProvider!.name} auth provider`;
  const next = exec
    ? `Run \`${[exec.command, ...exec.args].join(' ')}\` by hand to check whom it logs you in as, log in again with it, or choose another --context.`
    : 'Log in again with your OIDC login tool, or choose another --context.';
  return new KubeApiError(`${error.message}: the credentials came from ${source}`, status, error.status, next);
}

/** One line of a watch stream; anything but a JSON event is the server's fault, and said to be. */
export function parseWatchLine<T>(server: string, line: string, path: string): WatchEvent<T> {
  let event: WatchEvent<T> | undefined;
  try {
    event = JSON.parse(line) as WatchEvent<T>;
  } catch {
    // Fall through to the error below.
  }
  if (!event || typeof event !== 'object' || typeof event.type !== 'string' || typeof event.object !== 'object' || event.object === null) {
    throw new CliError(`the cluster at ${server} sent a watch event that is not a Kubernetes watch event (GET ${path}?watch=true): ${JSON.stringify(line.slice(0, 80))}`, {
      hint: 'Something between here and the API server (a proxy, a load balancer) may be rewriting the stream; `sympozium doctor` checks the connection.',
    });
  }
  return event;
}
