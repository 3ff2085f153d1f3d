import type { CommandUnknownOpts as Command, Option } from '@commander-js/extra-typings';
import type { Context } from '../context.js';
import { usageError } from '../errors.js';
import { outputFlagValues } from '../ui/output-flag.js';

/**
 * Shell completion. The scripts are tiny and ask the CLI itself what fits (`sympozium __complete <words...>`),
 * the way cobra-based tools such as kubectl do: the command tree is walked here, in one place, and instance and
 * run names come from the cluster with a short deadline. Failures print nothing, so a slow or absent cluster
 * never breaks the shell.
 */

const scripts: Record<string, (bin: string) => string> = {
  bash: (bin) => `# bash completion for ${bin}; load with: source <(${bin} completion bash)
_${bin.replace(/-/g, '_')}_complete() {
  local IFS=$'\\n'
  COMPREPLY=( $(${bin} __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) )
}
complete -o default -F _${bin.replace(/-/g, '_')}_complete ${bin}
`,
  zsh: (bin) => `#compdef ${bin}
# zsh completion for ${bin}; install with: ${bin} completion zsh > "\${fpath[1]}/_${bin}"
_${bin.replace(/-/g, '_')}() {
  local -a candidates
  candidates=("\${(@f)$(${bin} __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  compadd -- \${candidates:#}
}
if [[ "\${funcstack[1]}" = "_${bin.replace(/-/g, '_')}" ]]; then _${bin.replace(/-/g, '_')} "$@"; else compdef _${bin.replace(/-/g, '_')} ${bin}; fi
`,
  fish: (bin) => `# fish completion for ${bin}; install with: ${bin} completion fish > ~/.config/fish/completions/${bin}.fish
complete -c ${bin} -f -a '(${bin} __complete (commandline -opc)[2..-1] (commandline -ct) 2>/dev/null)'
`,
};

export async function completion(options: { shell: string }, ctx: Pick<Context, 'out'>): Promise<void> {
  const script = scripts[options.shell];
  if (!script) throw usageError(`no completion for shell "${options.shell}"`, 'Choose one of: bash, zsh, fish.');
  ctx.out.write(script('sympozium'));
}

/** What kind of name a positional argument or option value is, by its name in cli.ts. */
function valueKind(commandPath: string[], argName: string): 'instance' | 'run' | 'shell' | 'mcp-action' | undefined {
  if (argName === 'instance') return 'instance';
  if (argName === 'run') return 'run';
  if (argName === 'shell') return 'shell';
  if (argName === 'action' && commandPath[0] === 'mcp') return 'mcp-action';
  if (argName === 'name' && commandPath[0] === 'instances') return 'instance';
  return undefined;
}

interface CompletionState {
  command: Command;
  path: string[];
  positionals: string[];
  namespace?: string;
  context?: string;
  kubeconfig?: string;
}

function allOptions(command: Command): Option[] {
  const options: Option[] = [];
  for (let current: Command | null = command; current; current = current.parent) options.push(...current.options);
  return options;
}

function findOption(command: Command, flag: string): Option | undefined {
  return allOptions(command).find((option) => option.short === flag || option.long === flag);
}

function walk(program: Command, words: string[]): CompletionState {
  const state: CompletionState = { command: program, path: [], positionals: [] };
  for (let index = 0; index < words.length; index++) {
    const word = words[index]!;
    if (word.startsWith('-')) {
      const [flag, inline] = word.split('=', 2) as [string, string | undefined];
      const option = findOption(state.command, flag);
      if (option && (option.required || option.optional) && inline === undefined) {
        const value = words[++index];
        if (flag === '-n' || flag === '--namespace') state.namespace = value;
        if (flag === '--context') state.context = value;
        if (flag === '--kubeconfig') state.kubeconfig = value;
      }
      continue;
    }
    const sub = state.command.commands.find((candidate) => candidate.name() === word || candidate.aliases().includes(word));
    if (sub && state.positionals.length === 0) {
      state.command = sub;
      state.path.push(sub.name());
    } else {
      state.positionals.push(word);
    }
  }
  return state;
}

/** Prints completion candidates for `words`, whose last element is the word being completed (maybe empty). */
export async function completeWords(program: Command, words: string[], ctx: Context): Promise<void> {
  const partial = words.at(-1) ?? '';
  const before = words.slice(0, -1);
  const state = walk(program, before);
  const previous = before.at(-1);
  let candidates: string[] = [];

  const previousOption = previous?.startsWith('-') && !previous.includes('=') ? findOption(state.command, previous) : undefined;
  if (previousOption && (previousOption.required || previousOption.optional)) {
    const flag = previousOption.long ?? previousOption.short ?? '';
    if (previousOption.argChoices) candidates = previousOption.argChoices;
    else if (flag === '--output') candidates = [...outputFlagValues];
    else if (flag === '--instance') candidates = await names(ctx, state, 'instance');
    else if (flag === '--run') candidates = await names(ctx, state, 'run');
    else if (flag === '--namespace') candidates = await names(ctx, state, 'namespace');
    else if (flag === '--context') candidates = await contexts(ctx, state);
  } else if (partial.startsWith('-')) {
    candidates = allOptions(state.command)
      .filter((option) => !option.hidden)
      .map((option) => option.long ?? option.short)
      .filter((flag): flag is string => Boolean(flag));
  } else if (state.command.commands.length > 0 && state.positionals.length === 0) {
    candidates = state.command.commands.filter((sub) => !(sub as unknown as { _hidden: boolean })._hidden).map((sub) => sub.name());
  } else {
    const argument = state.command.registeredArguments[state.positionals.length];
    const kind = argument ? valueKind(state.path, argument.name()) : undefined;
    if (kind === 'shell') candidates = ['bash', 'zsh', 'fish'];
    else if (kind === 'mcp-action') candidates = ['tools', 'call', 'serve'];
    else if (kind === 'instance' || kind === 'run') candidates = await names(ctx, state, kind);
  }
  const matching = candidates.filter((candidate) => candidate.startsWith(partial));
  if (matching.length > 0) ctx.out.write(`${matching.join('\n')}\n`);
}

/** Names from the cluster, within a deadline; any failure means no candidates rather than an error. */
async function names(ctx: Context, state: CompletionState, kind: 'instance' | 'run' | 'namespace'): Promise<string[]> {
  try {
    const { createKubeClient } = await import('../kube/client.js');
    const kube = createKubeClient({
      globals: { kubeconfig: state.kubeconfig, context: state.context, namespace: state.namespace, requestTimeoutMs: 1500 },
      env: ctx.env,
    });
    try {
      const namespace = kube.namespace;
      const paths =
        kind === 'namespace'
          ? ['/api/v1/namespaces']
          : kind === 'run'
            ? [`/apis/sympozium.ai/v1alpha1/namespaces/${namespace}/agentruns`]
            : [`/apis/sympozium.ai/v1alpha1/namespaces/${namespace}/sympoziuminstances`, `/apis/sympozium.ai/v1alpha1/namespaces/${namespace}/agents`];
      for (const path of paths) {
        try {
          const list = await kube.list(path);
          return list.items.map((item) => item.metadata.name ?? '').filter(Boolean);
        } catch {
          // Try the next kind: older clusters serve SympoziumInstance, newer ones Agent.
        }
      }
      return [];
    } finally {
      kube.close();
    }
  } catch {
    return [];
  }
}

async function contexts(ctx: Context, state: CompletionState): Promise<string[]> {
  // The connection layer's own reader, so completion sees the same files and YAML rules as every command.
  const { kubeconfigContextNames } = await import('../kube/config.js');
  return kubeconfigContextNames({ kubeconfig: state.kubeconfig, env: ctx.env });
}
