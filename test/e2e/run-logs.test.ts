import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeClient } from '../../src/kube/client.js';
import type { AgentRun } from '../../src/sympozium/types.js';
import { startDevCluster, type DevCluster } from '../support/dev-cluster.js';
import { follow } from './cluster-support.js';

/**
 * A task run's Job and pod, as upstream creates them, and their logs through real kubectl: `kubectl logs` and
 * `kubectl logs -f` read what the agent wrote, and the pod goes when the Job's ttlSecondsAfterFinished does.
 */
const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
let cluster: DevCluster;
let kube: KubeClient;
const env = () => cluster.env();
const cli = (args: string[]) => cluster.cli(args);

/** Asynchronous: the emulator runs in this process, so a synchronous spawn would keep it from answering kubectl. */
function kubectlRun(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('kubectl', args, { env: env() });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

beforeAll(async () => {
  // The Job's TTL shortened so the test can see the pod go; upstream's is 300 s.
  cluster = await startDevCluster('sympozium-logs-', { timings: { jobTtlMs: 8_000, echoChunkMs: 40 }, extraEnv: { TEST_OPENAI_KEY: 'sk-test-not-real' } });
  kube = cluster.kube;
  const init = await cli(['init', 'logger', '--provider', 'openai', '--api-key-env', 'TEST_OPENAI_KEY', '--yes', '--apply', '--out', join(cluster.dir, 'logger.yaml')]);
  expect(init.code, init.stderr).toBe(0);
});
afterAll(async () => cluster?.stop());

describe.skipIf(!kubectl)('run pods and their logs', () => {
  if (!kubectl) console.log('kubectl not found on PATH: skipping the kubectl logs tests');

  it('a task run has the Job and pod upstream makes; kubectl logs shows the agent, -f follows it to the end', async () => {
    const started = await cli(['run', 'logger', 'tell me a story', '--no-wait', '-o', 'name']);
    expect(started.code, started.stderr).toBe(0);
    const name = started.stdout.trim().split('/')[1]!;
    let run: AgentRun | undefined;
    for (let i = 0; i < 100 && !run?.status?.podName; i++) {
      run = await kube.getOrUndefined<AgentRun>(`/apis/sympozium.ai/v1alpha1/namespaces/default/agentruns/${name}`);
      if (!run?.status?.podName) await new Promise((resolve) => setTimeout(resolve, 30));
    }
    const pod = run!.status!.podName!;
    // Follow from the start: the stream ends when the agent does, with the result marker upstream parses.
    const follow = spawn('kubectl', ['logs', '-f', pod, '-c', 'agent'], { env: env() });
    let followed = '';
    follow.stdout.setEncoding('utf8').on('data', (chunk) => (followed += chunk));
    const exit = await new Promise<number | null>((resolve) => follow.on('close', resolve));
    expect(exit).toBe(0);
    expect(followed).toContain(`agent-runner: run ${name}, model gpt-4.1`);
    expect(followed).toContain('tell me a story');
    expect(followed).toMatch(/__SYMPOZIUM_RESULT__\{"status":"success".*\}__SYMPOZIUM_END__/);

    const job = await kubectlRun(['get', 'job', name, '-o', 'jsonpath={.spec.ttlSecondsAfterFinished} {.metadata.ownerReferences[0].kind}']);
    expect(job.stdout, job.stderr).toBe('300 AgentRun');
    // Two containers: kubectl picks the first and says so; the API server itself wants one named.
    const defaulted = await kubectlRun(['logs', pod]);
    expect(defaulted.stderr).toContain('Defaulted container "agent" out of: agent, ipc-bridge');
    expect(defaulted.stdout).toContain('tell me a story');
    const unnamed = await kube.request({ path: `/api/v1/namespaces/default/pods/${pod}/log` }).catch((error: Error) => error);
    expect((unnamed as Error).message).toContain(`a container name must be specified for pod ${pod}, choose one of: [agent ipc-bridge]`);
    const tail = await kubectlRun(['logs', pod, '-c', 'agent', '--tail', '1']);
    expect(tail.stdout.trim()).toMatch(/^__SYMPOZIUM_RESULT__/);
    const stamped = await kubectlRun(['logs', pod, '-c', 'ipc-bridge', '--timestamps']);
    expect(stamped.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z ipc-bridge: listening on \/ipc/);

    // The Job's TTL passes: the Job goes, the pod with it, and so do its logs.
    for (let i = 0; i < 400; i++) {
      if (!(await kube.getOrUndefined(`/api/v1/namespaces/default/pods/${pod}`))) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await kube.getOrUndefined(`/apis/batch/v1/namespaces/default/jobs/${name}`)).toBeUndefined();
    const gone = await kubectlRun(['logs', pod, '-c', 'agent']);
    expect(gone.stderr).toContain(`pods "${pod}" not found`);
  }, 60_000);

  it('runs logs reads the pod while it exists (-f, --tail, --all-containers) and says what survives once it is gone', async () => {
    const started = await cli(['run', 'logger', 'a logged task', '--no-wait', '-o', 'name']);
    const name = started.stdout.trim().split('/')[1]!;
    const followed = await cli(['runs', 'logs', name, '-f']);
    expect(followed.code, followed.stderr).toBe(0);
    expect(followed.stdout).toContain(`agent-runner: run ${name}`);
    expect(followed.stdout).toContain('a logged task');
    expect(followed.stdout).toMatch(/__SYMPOZIUM_END__\n$/);
    const tail = await cli(['runs', 'logs', name, '--tail', '1']);
    expect(tail.stdout).toMatch(/^__SYMPOZIUM_RESULT__.*\n$/);
    const all = await cli(['runs', 'logs', name, '--all-containers']);
    expect(all.stdout).toMatch(/^\[agent\] agent-runner: run /m);
    expect(all.stdout).toContain('[ipc-bridge] ipc-bridge: listening on /ipc');
    const wrong = await cli(['runs', 'logs', name, '-c', 'nope']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('has no container "nope"');

    for (let i = 0; i < 400; i++) {
      if (!(await kube.getOrUndefined(`/apis/batch/v1/namespaces/default/jobs/${name}`))) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const after = await cli(['runs', 'logs', name]);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain(`the pod of run ${name} is gone, and its logs with it`);
    expect(after.stderr).toMatch(new RegExp(`run ${name}: Succeeded, ended .*tokens`));
    expect(after.stdout).toContain('a logged task');
    expect(after.stderr).toContain('5 minutes after the run ends (ttlSecondsAfterFinished: 300)');
    // The Events of the Job and pod outlive them, as on a real cluster (an hour by default), in the order they
    // happened: the Job made the pod, the scheduler placed it, the containers started, the Job completed.
    expect(after.stderr).toContain('Events of its Job and pod');
    const reasons = [...after.stderr.matchAll(/^ {2}(Normal|Warning) +(\w+) /gm)].map((match) => match[2]);
    expect(reasons[0]).toBe('SuccessfulCreate');
    expect(reasons).toContain('Scheduled');
    expect(reasons).toContain('Started');
    expect(reasons.at(-1)).toBe('Completed');
    expect(after.stderr).toMatch(new RegExp(`job/${name} +job-controller +Created pod: ${name}-`));
    expect(after.stderr).toMatch(/kubelet +Started container agent/);
    // kubectl sees the same Events.
    const events = await kubectlRun(['get', 'events', '--field-selector', `involvedObject.name=${name}`, '-o', 'jsonpath={.items[*].reason}']);
    expect(events.stdout.split(' ')).toEqual(expect.arrayContaining(['SuccessfulCreate', 'Completed']));
  }, 60_000);

  it('run --logs shows the agent\'s lines on stderr while it follows the run, the result on stdout', async () => {
    const result = await cli(['run', 'logger', 'with logs please', '--logs']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/│ agent-runner: run logger-run-\d+, model gpt-4\.1/);
    expect(result.stderr).toMatch(/│ __SYMPOZIUM_RESULT__/);
    expect(result.stdout).toContain('with logs please');
    expect(result.stdout).not.toContain('__SYMPOZIUM_RESULT__');
  });

  it('runs get --logs prints the details, then the pod\'s logs; -o json with it is refused; once the pod is gone it says so', async () => {
    const done = await cli(['run', 'logger', 'details then logs', '-o', 'name']);
    expect(done.code, done.stderr).toBe(0);
    const name = done.stdout.trim().split('/')[1]!;
    const pod = (await kube.get<AgentRun>(`/apis/sympozium.ai/v1alpha1/namespaces/default/agentruns/${name}`)).status!.podName!;
    const got = await cli(['runs', 'get', name, '--logs']);
    expect(got.code, got.stderr).toBe(0);
    const details = got.stdout.indexOf('Phase:');
    const header = got.stdout.indexOf(`\nLogs (pod ${pod}, container agent):\n`);
    expect(details).toBeGreaterThanOrEqual(0);
    expect(header).toBeGreaterThan(got.stdout.indexOf('Result:'));
    expect(got.stdout.slice(header)).toContain(`agent-runner: run ${name}, model gpt-4.1`);
    expect(got.stdout).toMatch(/__SYMPOZIUM_END__\n$/);
    // Without --logs nothing of the pod is printed.
    expect((await cli(['runs', 'get', name])).stdout).not.toContain('agent-runner:');

    // -o json is the AgentRun as the API serves it, so logs are refused there (exit 2) rather than mixed in.
    for (const format of ['json', 'yaml', 'name']) {
      const refused = await cli(['runs', 'get', name, '--logs', '-o', format]);
      expect(refused.code).toBe(2);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toContain(`--logs prints text after the run's details; -o ${format} prints only the AgentRun`);
    }

    for (let i = 0; i < 200; i++) {
      if (!(await kube.getOrUndefined(`/api/v1/namespaces/default/pods/${pod}`))) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const gone = await cli(['runs', 'get', name, '--logs']);
    expect(gone.code).toBe(1);
    expect(gone.stdout).toMatch(/Phase: +Succeeded/);
    expect(gone.stdout).toContain('details then logs');
    expect(gone.stdout).not.toContain('Logs (pod');
    expect(gone.stderr).toContain(`the pod of run ${name} is gone, and its logs with it`);
    expect(gone.stderr).toContain('5 minutes after the run ends (ttlSecondsAfterFinished: 300)');
    // The details already said what the run kept: it is not said twice.
    expect(gone.stderr).not.toContain('result (status.result)');
  }, 60_000);

  it('runs logs -f follows a server run across a pod restart: the old pod\'s lines, then the new pod\'s, from one invocation', async () => {
    const enabled = await cli(['enable', 'web-endpoint', 'logger']);
    expect(enabled.code, enabled.stderr).toBe(0);
    const runs = await kube.list<AgentRun>('/apis/sympozium.ai/v1alpha1/namespaces/default/agentruns');
    const server = runs.items.find((run) => run.spec?.mode === 'server' && run.metadata.labels?.['sympozium.ai/instance'] === 'logger')!;
    expect(server, 'the server run').toBeDefined();
    const podsPath = '/api/v1/namespaces/default/pods';
    const selector = { labelSelector: `sympozium.ai/instance=logger,sympozium.ai/component=agent-server` };
    const firstPod = (await kube.list<{ metadata: { name: string } }>(podsPath, selector)).items[0]!.metadata.name;

    const logs = follow(['runs', 'logs', server.metadata.name!, '-f', '-c', 'web-proxy'], env());
    try {
      await logs.waitFor((lines) => lines.some((line) => line.includes('"msg":"Starting web-proxy"')), 'the first pod\'s start line');
      const beforeRun = await chatRun('served by the first pod');
      await logs.waitFor((lines) => lines.some((line) => line.includes(`"run":"${beforeRun}"`)), `the line for ${beforeRun}`);

      // The pod goes (as `kubectl delete pod` or a node drain would); the Deployment's replacement serves next.
      await kube.delete(`${podsPath}/${firstPod}`);
      await logs.waitFor((lines) => lines.filter((line) => line.includes('"msg":"Starting web-proxy"')).length === 2, 'the second pod\'s start line', 30_000);
      const secondPod = (await kube.list<{ metadata: { name: string; deletionTimestamp?: string } }>(podsPath, selector)).items.find((pod) => !pod.metadata.deletionTimestamp)!.metadata.name;
      expect(secondPod).not.toBe(firstPod);
      const afterRun = await chatRun('served by the second pod');
      await logs.waitFor((lines) => lines.some((line) => line.includes(`"run":"${afterRun}"`)), `the line for ${afterRun}`);

      // One stream, in order: pod 1 starts, serves the first run; pod 2 starts, serves the second.
      const index = (predicate: (line: string) => boolean, from = 0) => logs.lines.findIndex((line, i) => i >= from && predicate(line));
      const start1 = index((line) => line.includes('"msg":"Starting web-proxy"'));
      const run1 = index((line) => line.includes(`"msg":"Created AgentRun from web request","run":"${beforeRun}"`));
      const start2 = index((line) => line.includes('"msg":"Starting web-proxy"'), start1 + 1);
      const run2 = index((line) => line.includes(`"msg":"Created AgentRun from web request","run":"${afterRun}"`));
      expect([start1, run1, start2, run2].every((i) => i >= 0), logs.lines.join('\n')).toBe(true);
      expect(start1).toBeLessThan(run1);
      expect(run1).toBeLessThan(start2);
      expect(start2).toBeLessThan(run2);
      expect(logs.stderr()).toContain(`pod ${firstPod} is gone; following ${secondPod}`);
    } finally {
      await logs.interrupt();
    }
  }, 90_000);
});

/** Chats once through the web endpoint; returns the one run that the request created. */
async function chatRun(message: string): Promise<string> {
  const names = async () => new Set((await kube.list<AgentRun>('/apis/sympozium.ai/v1alpha1/namespaces/default/agentruns')).items.map((run) => run.metadata.name!));
  const before = await names();
  const chat = await cli(['chat', 'logger', message]);
  expect(chat.code, chat.stderr).toBe(0);
  const created = [...(await names())].filter((name) => !before.has(name));
  expect(created).toHaveLength(1);
  return created[0]!;
}
