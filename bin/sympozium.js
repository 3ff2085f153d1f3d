#!/usr/bin/env node
// The published entry point: refuse old Node versions with a clear message, then hand over to the build.
// Kept free of imports so that the version check itself runs on any Node.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 17)) {
  process.stderr.write(
    `sympozium needs Node.js 20.17 or newer; this is ${process.version}.\n` +
      'Install a current Node.js (https://nodejs.org) or use a version manager such as nvm, then try again.\n',
  );
  process.exit(1);
}
// Node 22.3+ can keep compiled code between runs. Looked up without an import, so Node 20 pays nothing for it.
process.getBuiltinModule?.('node:module')?.enableCompileCache?.();
// These commands have one-file bundles of the same code (scripts/build.mjs oneFileCommands says why); every
// other line, one of them after a global flag included, goes to main.js, which runs them too, a little slower.
const oneFile = ['chat', 'key', 'run'];
const entry = oneFile.includes(process.argv[2]) ? `../dist/${process.argv[2]}.js` : '../dist/main.js';
import(entry).then((m) => m.main(process.argv));
