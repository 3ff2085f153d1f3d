import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import type { KubeClient } from '../kube/client.js';
import { controllerImage, releaseTag } from '../sympozium/cluster-release.js';
import { group, version as apiVersion } from '../sympozium/types.js';

/**
 * `sympozium version`: this client, the API server, and the Sympozium release the cluster runs, as
 * `kubectl version` reports client and server. The release is read from the controller Deployment's image
 * tag in sympozium-system (upstream's Helm chart tags images with the release); the kinds the cluster
 * serves tell the era when no controller can be read (Agent: v0.10 and later; SympoziumInstance: before).
 */

export interface VersionOptions {
  client: string;
  clientOnly: boolean;
}

interface ServerVersion {
  gitVersion?: string;
  platform?: string;
}

interface SympoziumRelease {
  release?: string;
  controller?: { deployment: string; image: string };
  kinds: string[];
}

interface VersionReport {
  client: { version: string; node: string };
  server?: { version: string; platform?: string; context: string; url: string };
  sympozium?: SympoziumRelease;
}

export async function version(options: VersionOptions, ctx: Context): Promise<void> {
  const report: VersionReport = { client: { version: options.client, node: process.version } };
  let failure: unknown;
  if (!options.clientOnly) {
    try {
      const kube = await ctx.kube();
      const [server, sympozium] = await Promise.all([kube.get<ServerVersion>('/version'), sympoziumRelease(kube)]);
      report.server = { version: server.gitVersion ?? 'unknown', platform: server.platform, context: kube.config.contextName, url: kube.config.server };
      report.sympozium = sympozium;
    } catch (error) {
      failure = error;
    }
  }
  print(ctx, report);
  // As `kubectl version`: the client is printed, and an unreachable server still fails the command.
  if (failure) throw failure instanceof CliError ? failure : new CliError(`cannot read the server's version: ${(failure as Error).message}`);
}

async function sympoziumRelease(kube: KubeClient): Promise<SympoziumRelease | undefined> {
  const discovery = await kube.getOrUndefined<{ resources?: { name: string; kind: string }[] }>(`/apis/${group}/${apiVersion}`);
  if (!discovery) return undefined;
  const kinds = [...new Set((discovery.resources ?? []).filter((resource) => !resource.name.includes('/')).map((resource) => resource.kind))].sort();
  const controller = await controllerImage(kube);
  const tag = controller ? releaseTag(controller.image) : undefined;
  return { release: tag, controller, kinds };
}

function print(ctx: Pick<Context, 'out'>, report: VersionReport): void {
  const out = ctx.out;
  if (out.format === 'json' || out.format === 'yaml') return out.document(report);
  const lines = [`Client:      ${report.client.version} (Node.js ${report.client.node})`];
  if (report.server) lines.push(`API server:  ${report.server.version} (context "${report.server.context}", ${report.server.url})`);
  if (report.server && !report.sympozium) lines.push('Sympozium:   not installed (the API group sympozium.ai/v1alpha1 is not served)');
  if (report.sympozium) {
    const era = report.sympozium.kinds.includes('Agent') ? 'the Agent era, v0.10 or later' : report.sympozium.kinds.includes('SympoziumInstance') ? 'the SympoziumInstance era, before v0.10' : 'an unknown era';
    lines.push(
      `Sympozium:   ${report.sympozium.release ?? `release not known (${era})`}${report.sympozium.controller ? ` (${report.sympozium.controller.deployment}, ${report.sympozium.controller.image})` : ''}`,
      `Kinds:       ${report.sympozium.kinds.join(', ') || 'none'}`,
    );
  }
  out.result(lines.join('\n'));
}
