/**
 * The `admin` section. The admin API can stop the host (`/quitquitquit`), take it out of
 * rotation and show its config, so by default it is reachable only from this machine:
 *
 *   admin: { address: 127.0.0.1:9901 }                       TCP on loopback (127.0.0.0/8, ::1, localhost)
 *   admin: { address: 0.0.0.0:9901, allowRemote: true }      any other address, said so explicitly
 *   admin: { unix: true }                                    <runtime dir>/base-<N>/admin.sock, mode 0600
 */
import { isIPv4 } from 'node:net';
import * as z from 'zod';
import { address } from './schema-scalars.js';
import type { AdminConfig, SocketAddress } from './types.js';

export function isLoopback(a: SocketAddress): boolean {
  return a.host === 'localhost' || a.host === '::1' || (isIPv4(a.host) && a.host.startsWith('127.'));
}

export const adminSchema = z
  .strictObject({
    address: address.optional(),
    allowRemote: z.boolean({ error: 'must be true or false' }).optional(),
    unix: z.literal(true, { error: 'must be true (leave the key out for a TCP address)' }).optional(),
  })
  .superRefine((a, ctx) => {
    if (a.unix === true && a.address !== undefined) ctx.addIssue({ code: 'custom', path: ['unix'], message: 'cannot be set together with address: the admin endpoint listens on one socket' });
    else if (a.unix === true && a.allowRemote !== undefined) ctx.addIssue({ code: 'custom', path: ['allowRemote'], message: 'applies to a TCP address only' });
    else if (a.unix === undefined && a.address === undefined) ctx.addIssue({ code: 'custom', path: [], message: 'needs address (host:port) or unix: true' });
    else if (a.address !== undefined && a.allowRemote !== true && !isLoopback(a.address)) {
      ctx.addIssue({ code: 'custom', path: ['address'], message: 'is not a loopback address: the admin API can stop this host; set allowRemote: true to serve it beyond this machine' });
    }
  });

export function normalizeAdmin(file: z.output<typeof adminSchema> | undefined): AdminConfig | null {
  if (file === undefined) return null;
  // The refinement above guarantees exactly one of the two.
  return file.address === undefined ? { unix: true } : { address: file.address };
}
