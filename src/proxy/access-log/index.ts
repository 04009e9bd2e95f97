/** Access logs: see types.ts for the contract, writer.ts for how lines reach the file. */
import type { ListenerSnapshot } from '../types.js';
import type { AccessLog } from './types.js';

export type * from './types.js';
export { buildAccessLog, compileFormat, droppedStatName } from './access-log.js';
export { escapeText } from './compile.js';
export { createConnectionIdBuffer, nextConnectionId, useSharedConnectionIds } from './connection-id.js';
export { AccessLogFiles, threadAccessLogFiles } from './files.js';
export { parseFormat, OPERATORS } from './parse.js';
export { AccessLogFile, ACCESS_LOG_MODE } from './writer.js';

/**
 * The access log buildSnapshot attached to a listener snapshot, or null. (`ListenerSnapshot`
 * in proxy/types.ts does not declare the field yet; once it does, read it directly.)
 */
export function accessLogOf(listener: ListenerSnapshot): AccessLog | null {
  return (listener as { readonly accessLog?: AccessLog | null }).accessLog ?? null;
}
