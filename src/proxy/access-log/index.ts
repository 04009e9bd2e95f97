/** Access logs: see types.ts for the contract, writer.ts for how lines reach the file. */
export type * from './types.js';
export { buildAccessLog, compileFormat, droppedStatName } from './access-log.js';
export { escapeText } from './compile.js';
export { createConnectionIdBuffer, nextConnectionId, useSharedConnectionIds } from './connection-id.js';
export { AccessLogFiles, threadAccessLogFiles } from './files.js';
export { parseFormat, OPERATORS } from './parse.js';
export { AccessLogFile, ACCESS_LOG_MODE } from './writer.js';

