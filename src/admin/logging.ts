/**
 * `/logging` (Envoy's path): the epoch's log level.
 *
 *   GET  /logging               200 "level: info\n"; ?format=json gives {"level":"info","levels":[…]}
 *   POST /logging?level=debug   sets the level of this epoch (its main thread and its workers),
 *                               answers as GET does; a missing or unknown level is 400
 *   GET  /logging?level=…       405: a change takes a POST, so a crawler or a prefetch cannot make one
 *
 * The level is the epoch's: a reload starts the next epoch at the supervisor's `--log-level`.
 * Envoy's per-logger `?paths=` is not offered: there is one logger per thread here.
 */
import type { ServerResponse } from 'node:http';
import { LOG_LEVELS, isLogLevel } from '../log.js';
import { send } from './send.js';
import type { AdminFacts } from './types.js';

export const LOGGING_METHODS: readonly string[] = ['GET', 'HEAD', 'POST'];

export function logging(facts: AdminFacts, query: URLSearchParams, res: ServerResponse, method: string): void {
  const wanted = query.get('level');
  if (method === 'POST') {
    if (wanted === null || !isLogLevel(wanted)) {
      send(res, 400, 'text', `level must be one of ${LOG_LEVELS.join(', ')}\n`);
      return;
    }
    facts.logging.set(wanted);
  } else if (wanted !== null) {
    res.setHeader('allow', 'POST');
    send(res, 405, 'text', 'changing the level takes a POST\n');
    return;
  }
  const level = facts.logging.level;
  if (query.get('format') === 'json') send(res, 200, 'json', JSON.stringify({ level, levels: LOG_LEVELS }) + '\n');
  else send(res, 200, 'text', `level: ${level}\n`);
}
