/**
 * An endpoints file (`discovery: file`): YAML, or JSON (YAML 1.2 reads JSON, so one parser
 * serves both and both get `file:line:col` positions), whose top level is
 *
 *   endpoints:
 *     - 127.0.0.1:9001
 *     - { address: 127.0.0.1:9002, weight: 3, locality: { zone: a }, metadata: { canary: true } }
 *
 * Each entry is spelled as in the config's `endpoints`. `endpoints: []` is a valid empty set;
 * an empty file is not (a deploy tool that truncates before it writes must not empty the
 * cluster for a moment).
 */
import * as z from 'zod';
import { formatAddress } from '../../config/address.js';
import { fromZod, type PathIssue } from '../../config/issue.js';
import { parseYaml, positioned } from '../../config/positions.js';
import { endpointSchema, normalizeEndpoint } from '../../config/schema-cluster.js';
import type { ConfigIssue } from '../../config/types.js';
import type { DiscoveredEndpoint } from '../types.js';

const endpointsFileSchema = z.strictObject({ endpoints: z.array(endpointSchema) }, { error: 'must be a mapping with "endpoints: [...]"' });

export type EndpointsFileResult = { readonly ok: true; readonly endpoints: readonly DiscoveredEndpoint[] } | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

/** Parses an endpoints file's text; every problem is collected, each with its position. */
export function parseEndpointsFile(text: string, file: string): EndpointsFileResult {
  const yaml = parseYaml(text, file);
  if (!yaml.ok) return yaml;
  const { doc, lines, raw } = yaml;
  if (raw === null || raw === undefined) {
    return { ok: false, issues: [{ file, line: 1, col: 1, path: '(root)', message: 'the file is empty: it needs "endpoints: [...]" ("endpoints: []" for none)' }] };
  }
  const parsed = endpointsFileSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, issues: positioned(parsed.error.issues.flatMap((i) => fromZod(i, raw)), doc, lines, file) };
  const endpoints = parsed.data.endpoints.map(normalizeEndpoint);
  const duplicates = duplicateIssues(endpoints);
  if (duplicates.length > 0) return { ok: false, issues: positioned(duplicates, doc, lines, file) };
  return { ok: true, endpoints };
}

/** Two entries with one address would be one host with two weights: refused, at the later entry. */
function duplicateIssues(endpoints: readonly DiscoveredEndpoint[]): PathIssue[] {
  const first = new Map<string, number>();
  const issues: PathIssue[] = [];
  endpoints.forEach((e, i) => {
    const address = formatAddress(e);
    const j = first.get(address);
    if (j === undefined) first.set(address, i);
    else issues.push({ path: ['endpoints', i], message: `duplicate endpoint ${address} (also endpoints[${j}])`, at: 'value' });
  });
  return issues;
}
