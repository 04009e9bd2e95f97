/**
 * The JSON Schema of the config file, generated from the zod schema (src/config/schema*.ts),
 * for editors and other tools. It describes what the file may say (`io: 'input'`): durations
 * and addresses are strings there, before zod turns them into milliseconds and hosts. The rules
 * that span keys (cross-checks*.ts) and the files tls keys name are not in it; `proxyctl
 * validate` checks those. scripts/gen-schema.js writes it to schema/proxyctl.schema.json.
 */
import * as z from 'zod';
import { configFileSchema } from '../config/schema.js';
import { httpFilterEntry } from '../config/schema-http-filters.js';
import { HTTP_FILTERS } from '../proxy/http/filters/index.js';

export const SCHEMA_ID = 'urn:proxyctl:config';
export const SCHEMA_FILE = 'schema/proxyctl.schema.json';

type JsonObject = Record<string, unknown>;

const OPTIONS = { io: 'input', target: 'draft-2020-12' } as const;

/** An `httpFilters` entry: a mapping with one key, a filter's name, whose value its own schema checks. */
function httpFilterEntrySchema(): JsonObject {
  const properties: JsonObject = {};
  for (const [name, factory] of HTTP_FILTERS) {
    const { $schema: _, ...schema } = z.toJSONSchema(factory.configSchema, OPTIONS) as JsonObject;
    properties[name] = schema;
  }
  return { type: 'object', description: "One HTTP filter: a mapping with one key, the filter's name, whose value is its config.", properties, minProperties: 1, maxProperties: 1, additionalProperties: false };
}

export function configJsonSchema(): JsonObject {
  const body = z.toJSONSchema(configFileSchema, {
    ...OPTIONS,
    override(ctx) {
      if (ctx.zodSchema === httpFilterEntry) Object.assign(ctx.jsonSchema, httpFilterEntrySchema());
      // A default the file may leave out, filled in by normalize: zod drops `default` metadata
      // on a transformed string (a duration), whose parsed type is not the file's.
      const meta = z.globalRegistry.get(ctx.zodSchema);
      if (meta?.default !== undefined && ctx.jsonSchema.default === undefined) ctx.jsonSchema.default = meta.default;
    },
  }) as JsonObject;
  const { $schema, ...rest } = body;
  return { $schema, $id: SCHEMA_ID, title: 'proxyctl.yaml', description: 'The proxyctl config file (proxyctl.yaml(5)).', ...rest };
}

/** The file's text, as committed: two-space JSON and a final newline. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
