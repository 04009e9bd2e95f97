#!/usr/bin/env node
// The proxyctl command line. Commands live in dist/src/commands (built by `npm run build`);
// oclif reads their flags from oclif.manifest.json so start-up does not import every command.
import { execute } from '@oclif/core';

await execute({ dir: import.meta.url });
