// Writes man/proxyctl.1 and man/proxyctl.yaml.5 from their templates (man/src/*.in), the command
// metadata (oclif.manifest.json, src/cli/flag-spec.ts), src/errors.ts and the config's JSON
// Schema (src/docs/). Run by `npm run man` after `npm run build`; the pages are committed.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { manFiles } from '../dist/src/docs/pages.js';

const root = fileURLToPath(new URL('..', import.meta.url));
for (const [path, text] of Object.entries(manFiles(root))) writeFileSync(`${root}${path}`, text);
