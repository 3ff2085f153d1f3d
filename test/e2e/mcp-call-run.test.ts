import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentRun } from '../../src/sympozium/types.js';
import { startDevCluster, type DevCluster } from '../support/dev-cluster.js';

/**
 * `mcp call` follows the run behind its answer as chat does (issue 13): the run named when this call created
 * it, its final phase and tokens on stderr, its real error on failure, and upstream's "(no response)" an exit 1
 * that never reaches stdout as if it were the answer. Against `sympozium dev`, whose MCP tool answers as
 * upstream's executeAgentTask does (internal/webproxy/mcp.go).
 */
let cluster: DevCluster;
const cli = (args: string[]) => cluster.cli(args, { timeoutMs: 40_000 });
const runs = async () => (await cluster.kube.list<AgentRun>('/apis/sympozium.ai/v1alpha1/namespaces/default/agentruns', { labelSelector: 'sympozium.ai/instance=mcpd,sympozium.ai/source=web-proxy' })).items;

beforeAll(async () => {
  cluster = await startDevCluster('sympozium-mcp-run-', { extraEnv: { TEST_OPENAI_KEY: 'sk-test-not-real' } });
  const init = await cli(['init', 'mcpd', '--provider', 'openai', '--api-key-env', 'TEST_OPENAI_KEY', '--web-endpoint', '--yes', '--apply', '--out', join(cluster.dir, 'mcpd.yaml')]);
  expect(init.code, init.stderr).toBe(0);
  // A high rate limit: the default (60/min, burst 10) would make some calls wait out a 429.
  const enabled = await cli(['enable', 'web-endpoint', 'mcpd', '--rpm', '6000', '--burst', '100']);
  expect(enabled.code, enabled.stderr).toBe(0);
}, 60_000);
afterAll(async () => cluster?.stop());

describe('mcp call and its run', () => {
  it('names the run this call created, with its final phase and tokens, after the answer', async () => {
    const call = await cli(['mcp', 'mcpd', 'call', 'ask_agent', '--arg', 'task=count the nodes']);
    expect(call.code, call.stderr).toBe(0);
    expect(call.stdout).toMatch(/You asked: count the nodes\n$/);
    const ours = (await runs()).filter((run) => run.spec?.task === 'count the nodes');
    expect(ours).toHaveLength(1);
    const name = ours[0]!.metadata.name!;
    expect(name).toMatch(/^mcpd-mcp-/);
    expect(call.stderr).toMatch(new RegExp(`run ${name} · Succeeded · \\S+ · \\d+ tokens \\(\\d+ in, \\d+ out\\)`));
  });

  it('"(no response)" is exit 1, not printed as the answer, and names the run that gave nothing', async () => {
    const call = await cli(['mcp', 'mcpd', 'call', 'ask_agent', '--arg', 'task=say nothing [silent]']);
    expect(call.code).toBe(1);
    expect(call.stdout).toBe('');
    const name = (await runs()).find((run) => run.spec?.task === 'say nothing [silent]')!.metadata.name!;
    expect(call.stderr).toContain(`the agent gave no answer ("(no response)"): run ${name} is Succeeded with no result`);
    expect(call.stderr).toContain(`sympozium runs get ${name}`);
  });

  it('a failed agent runner is exit 1 with the run named and its real error', async () => {
    const call = await cli(['mcp', 'mcpd', 'call', 'ask_agent', '--arg', 'task=break it [fail]']);
    expect(call.code).toBe(1);
    expect(call.stdout).toBe('');
    const name = (await runs()).find((run) => run.spec?.task === 'break it [fail]')!.metadata.name!;
    // Upstream's runner writes its failure as the result, which the proxy answers "(no response)" (mcp.go
    // executeAgentTask); the run then fails, and its error is what the call reports, not a refusal.
    expect(call.stderr).toContain(`the agent gave no answer: run ${name} failed: echo model: failing on purpose because the task contains [fail]`);
    expect(call.stderr).not.toContain('refused');
    expect(call.stderr).toContain(`sympozium runs get ${name}`);
  });

  it('--timeout ends a call whose run goes on, naming that run and its phase', async () => {
    const call = await cli(['mcp', 'mcpd', 'call', 'ask_agent', '--arg', 'task=think forever [hang]', '--timeout', '3s']);
    expect(call.code).toBe(1);
    expect(call.stdout).toBe('');
    const name = (await runs()).find((run) => run.spec?.task === 'think forever [hang]')!.metadata.name!;
    expect(call.stderr).toMatch(new RegExp(`no answer from the MCP server within 3(\\.0)?s \\(--timeout\\); run ${name} · Running`));
    expect(call.stderr).toContain(`sympozium runs cancel ${name}`);
    const cancelled = await cli(['runs', 'cancel', name]);
    expect(cancelled.code, cancelled.stderr).toBe(0);
  });
});
