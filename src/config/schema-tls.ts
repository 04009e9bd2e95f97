import * as z from 'zod';
import { duration } from './schema-scalars.js';
import { formatDuration } from './duration.js';
import type { ListenerProtocol } from './types.js';

/**
 * The `tls` keys of listeners and clusters, as the file spells them. Files are only named
 * here; `tls-files.ts` reads and checks them once the whole document passed the schema.
 */

/** ALPN offered when a listener's `tls` has no `alpn`: HTTP/2 first on http listeners. */
export const DEFAULT_ALPN: Readonly<Record<ListenerProtocol, readonly string[]>> = { http: ['h2', 'http/1.1'], tcp: [] };
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
export const TLS_VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;

const file = z.string({ error: 'must be a file path' }).min(1, { error: 'must be a file path' });

// RFC 7301: a protocol name is 1..255 bytes; printable ASCII covers every registered one.
export const alpnName = z.string({ error: 'must be a protocol name such as http/1.1' }).regex(/^[\x21-\x7e]{1,255}$/, { error: 'must be 1..255 printable ASCII characters, such as http/1.1' });

// A DNS name (no trailing dot); the proxy sends it as SNI and checks the upstream's certificate against it.
const serverName = z.string({ error: 'must be a host name' }).regex(/^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/, { error: 'must be a DNS host name, such as api.internal' });

export const listenerTlsSchema = z.strictObject({
  certificates: z.array(z.strictObject({ certFile: file, keyFile: file })).min(1, { error: 'at least one certificate is required' }).describe('PEM certificates (leaf, then intermediates) and their keys; the one whose names match the client\'s SNI is sent, else the first.'),
  minVersion: z.enum(TLS_VERSIONS, { error: 'must be "TLSv1.2" or "TLSv1.3"' }).default('TLSv1.2').describe('The oldest TLS version accepted.'),
  alpn: z.array(alpnName).optional().describe(`The protocols offered by ALPN, in order of preference. Default: ${DEFAULT_ALPN.http.join(', ')} on http listeners, none on tcp.`),
  handshakeTimeout: duration.optional().meta({ default: formatDuration(DEFAULT_HANDSHAKE_TIMEOUT_MS), description: 'A handshake not finished in this time is closed and counted.' }),
  clientCertificate: z.strictObject({ caFile: file, required: z.boolean({ error: 'must be true or false' }).default(true) }).optional().describe('Ask clients for a certificate that chains to caFile (mutual TLS); one that fails verification is refused, and with required, so is a client that sends none.'),
}).meta({ id: 'listenerTls', description: 'TLS termination: the certificates a listener or filter chain serves, and what it asks of clients.' });

export const upstreamTlsSchema = z.strictObject({
  sni: serverName.optional().describe('The server name sent and checked against the endpoint\'s certificate. Default: the endpoint host when it is a name; an IP endpoint sends none and its IP is checked.'),
  caFile: file.optional().describe('CA certificates to verify the endpoint against. Default: Node\'s bundled root certificates.'),
  verify: z.boolean({ error: 'must be true or false' }).default(true).describe('Verify the endpoint\'s certificate.'),
});

export type ListenerTlsFile = z.output<typeof listenerTlsSchema>;
export type UpstreamTlsFile = z.output<typeof upstreamTlsSchema>;
