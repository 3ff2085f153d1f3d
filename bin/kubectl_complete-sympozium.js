#!/usr/bin/env node
// Shell completion for `kubectl sympozium ...`: kubectl runs this executable with the words typed after
// `kubectl sympozium` and expects cobra's format, the candidates then a `:<directive>` line
// (4 = ShellCompDirectiveNoFileComp).
const { runCli } = await import('../dist/main.js');
await runCli(['__complete', ...process.argv.slice(2)]);
process.stdout.write(':4\n');
