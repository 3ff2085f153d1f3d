import type { KubeClient } from './kube/client.js';
import type { Output, OutputFormat } from './ui/output.js';
import type { Prompter } from './ui/prompts.js';

/** Flags every command understands, parsed once in cli.ts. */
export interface GlobalOptions {
  kubeconfig?: string;
  context?: string;
  /** Set only when the user passed -n; commands fall back to the kubeconfig context's namespace. */
  namespace?: string;
  output: OutputFormat;
  /** The template of -o jsonpath=... or -o custom-columns=...; or the file holding it (-o jsonpath-file=...). */
  outputTemplate?: string;
  outputTemplateFile?: string;
  /** True when -o was given explicitly, so a command can tell "table by default" from "asked for table". */
  outputExplicit: boolean;
  yes: boolean;
  quiet: boolean;
  verbose: boolean;
  color: boolean;
  requestTimeoutMs?: number;
  /** --as, --as-group (repeatable), --as-uid: impersonation as in kubectl. */
  as?: string;
  asGroups?: string[];
  asUid?: string;
}

/**
 * What a command may touch of the outside world. Tests build one with fakes; nothing reads the environment
 * or config at import time.
 */
export interface Context {
  out: Output;
  prompt: Prompter;
  globals: GlobalOptions;
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** A person is at a terminal: stdin and stdout are TTYs and CI is not set. */
  interactive: boolean;
  now: () => Date;
  /** Aborted on Ctrl-C, so long waits and requests stop promptly. */
  signal: AbortSignal;
  /** The cluster client for the selected kubeconfig and context, created on first use. */
  kube(): Promise<KubeClient>;
}
