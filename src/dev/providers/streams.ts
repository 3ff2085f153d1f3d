/**
 * The local stand-in for upstream's event bus (NATS, internal/eventbus) as far as the web proxy sees it. Three
 * topics, each event naming its run in metadata.agentRunID:
 *
 * - `agent.stream.chunk` {type, content, index}: published by the run's ipc-bridge when the agent writes
 *   /ipc/output/stream-0.json, once, with the whole answer, and only when the answer is not empty
 *   (cmd/agent-runner/main.go, internal/ipc/bridge.go handleOutputFile; v0.5.8 and v0.10.46);
 * - `agent.run.completed` {status, response, error, metrics}: published by the same bridge when the agent writes
 *   /ipc/output/result.json, which it does on success and on failure alike (status "error", no response), as
 *   soon as the agent is done, before its Job ends and well before the controller marks the run;
 * - `agent.run.failed` {error}: published by the controller's failRun, at v0.10.46 only
 *   (internal/controller/agentrun_controller.go); v0.5.8 has no publisher for it.
 *
 * Like a NATS core subscription there is no replay: a subscriber sees only what is published after it
 * subscribed, which is why upstream's proxy subscribes before it creates (or looks up) the run.
 */
export const topics = {
  chunk: 'agent.stream.chunk',
  completed: 'agent.run.completed',
  failed: 'agent.run.failed',
} as const;

export type Topic = (typeof topics)[keyof typeof topics];

export interface BusEvent {
  topic: Topic;
  /** agentRunID and instanceName as upstream's; namespace so that dev's one bus serves every namespace. */
  metadata: { agentRunID: string; instanceName: string; namespace: string };
  data: Record<string, unknown>;
}

export class AgentEventBus {
  private readonly listeners = new Map<Topic, Set<(event: BusEvent) => void>>();

  publish(topic: Topic, metadata: BusEvent['metadata'], data: Record<string, unknown>): void {
    for (const listener of [...(this.listeners.get(topic) ?? [])]) listener({ topic, metadata, data });
  }

  /** Returns the unsubscribe function. */
  subscribe(topic: Topic, listener: (event: BusEvent) => void): () => void {
    let set = this.listeners.get(topic);
    if (!set) this.listeners.set(topic, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  clear(): void {
    this.listeners.clear();
  }
}
