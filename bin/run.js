#!/usr/bin/env node
// The proxyctl command line. Commands live in dist/src/commands (built by `npm run build`);
// oclif reads their flags from oclif.manifest.json so start-up does not import every command.
//
// The control commands (status, reload, drain, stop, stats) first try the fast path, which
// runs them without loading oclif at all: importing @oclif/core and loading its config costs
// more than all of `node -e 0` (see README.md, "Fast start"). Whatever argv or environment
// the fast path is not certain about falls through to oclif, unchanged.
import { runFastPath } from '../dist/src/cli/fast-path.js';

if (!(await runFastPath(process.argv.slice(2)))) {
  const { execute } = await import('@oclif/core');
  await execute({ dir: import.meta.url });
}
