/**
 * Every generated doc file, as `{ path relative to the repo: text }`: the JSON Schema and both
 * man pages. scripts/gen-schema.js and scripts/gen-man.js write them; the docs test checks the
 * committed files equal them, so a new flag, key or error code cannot leave them stale.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { configJsonSchema, configJsonSchemaText, SCHEMA_FILE } from './json-schema.js';
import { cliPage, type Manifest } from './man-cli.js';
import { configPage } from './man-config.js';

export function schemaFiles(): Record<string, string> {
  return { [SCHEMA_FILE]: configJsonSchemaText() };
}

/** Reads the templates, the oclif manifest and src/errors.ts from the repo at `root`. */
export function manFiles(root: string): Record<string, string> {
  const read = (path: string): string => readFileSync(resolve(root, path), 'utf8');
  const manifest = JSON.parse(read('oclif.manifest.json')) as Manifest;
  return {
    'man/proxyctl.1': cliPage({ template: read('man/src/proxyctl.1.in'), manifest, errorsSource: read('src/errors.ts') }),
    'man/proxyctl.yaml.5': configPage(read('man/src/proxyctl.yaml.5.in'), configJsonSchema()),
  };
}
