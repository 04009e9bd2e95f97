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
import { LOG_LEVELS, isLogLevel } from '../log.js';
import { send, sendJson, TEXT } from './respond.js';
import type { AdminRequest, AdminRoute } from './types.js';

function logging({ facts, query, req, res }: AdminRequest): void {
  const wanted = query.get('level');
  if (req.method === 'POST') {
    if (wanted === null || !isLogLevel(wanted)) {
      send(res, 400, TEXT, `level must be one of ${LOG_LEVELS.join(', ')}\n`);
      return;
    }
    facts.logging.set(wanted);
  } else if (wanted !== null) {
    res.setHeader('allow', 'POST');
    send(res, 405, TEXT, 'changing the level takes a POST\n');
    return;
  }
  const level = facts.logging.level;
  if (query.get('format') === 'json') sendJson(res, 200, { level, levels: LOG_LEVELS });
  else send(res, 200, TEXT, `level: ${level}\n`);
}

export const LOGGING_ROUTE: AdminRoute = { path: '/logging', method: 'GET+POST', help: 'the log level; POST ?level=debug|info|warn|error sets it for this epoch', handle: logging };
