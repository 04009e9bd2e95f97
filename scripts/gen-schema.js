// Writes schema/proxyctl.schema.json, the JSON Schema of the config file, from the zod schema
// (src/docs/json-schema.ts). Run by `npm run schema` after `npm run build`; the file is committed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { schemaFiles } from '../dist/src/docs/pages.js';

const root = fileURLToPath(new URL('..', import.meta.url));
for (const [path, text] of Object.entries(schemaFiles())) {
  mkdirSync(dirname(`${root}${path}`), { recursive: true });
  writeFileSync(`${root}${path}`, text);
}
