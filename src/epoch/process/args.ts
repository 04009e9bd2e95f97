/** The epoch's command line: `--socket PATH --stats PATH --epoch N --base-id B --workers N`, all required, `--standby`, and `--log-level L` (default info). */
import { parseArgs } from 'node:util';
import { ProxyctlError } from '../../errors.js';
import { isLogLevel } from '../../log.js';
import type { EpochArgs } from './types.js';

function usage(message: string): ProxyctlError {
  return new ProxyctlError('PROXYCTL_ERR_USAGE', `${message} (usage: epoch.js --socket PATH --stats PATH --epoch N --base-id B --workers N [--standby] [--log-level L])`);
}

function required(values: Record<string, string | undefined>, name: string): string {
  const v = values[name];
  if (v === undefined || v === '') throw usage(`--${name} is required`);
  return v;
}

function whole(values: Record<string, string | undefined>, name: string): number {
  const v = required(values, name);
  if (!/^\d{1,9}$/.test(v)) throw usage(`--${name} must be a whole number, got ${JSON.stringify(v)}`);
  return Number(v);
}

/** Throws PROXYCTL_ERR_USAGE for an unknown flag, a missing one, or a bad number. */
export function parseEpochArgs(argv: string[]): EpochArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { socket: { type: 'string' }, stats: { type: 'string' }, epoch: { type: 'string' }, 'base-id': { type: 'string' }, workers: { type: 'string' }, standby: { type: 'boolean' }, 'log-level': { type: 'string', default: 'info' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err: unknown) {
    throw usage(err instanceof Error ? err.message : String(err));
  }
  const strings = values as Record<string, string | undefined>;
  const workersHint = whole(strings, 'workers');
  if (workersHint < 1 || workersHint > 64) throw usage(`--workers must be from 1 to 64, got ${workersHint}`);
  const logLevel = required(strings, 'log-level');
  if (!isLogLevel(logLevel)) throw usage(`--log-level must be debug, info, warn or error, got ${JSON.stringify(logLevel)}`);
  return { socket: required(strings, 'socket'), stats: required(strings, 'stats'), epoch: whole(strings, 'epoch'), baseId: whole(strings, 'base-id'), standby: values.standby === true, workersHint, logLevel };
}
