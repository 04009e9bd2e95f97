/**
 * `discovery: file`: the endpoints listed in a YAML or JSON file (endpoints-file.ts), read at
 * start and again whenever it changes: written in place, replaced by a rename (how deploy
 * tools write), or deleted and created again.
 *
 * Changes are noticed two ways. fs.watch on the parent directory, filtered to the file's
 * name, sees a rename onto the file as well as a write (watching the file itself would follow
 * the old inode after a rename). A stat poll every second (inode, size, mtime) catches what
 * fs.watch misses on filesystems where it says nothing (NFS, some container mounts). Either
 * one waits DEBOUNCE_MS for quiet before reading, so a file being written is read once it is
 * whole, not halfway; reads never overlap.
 */
import { watch, type FSWatcher, type Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { errnoCode } from '../../errors.js';
import { byPosition, formatIssue } from '../../config/issue.js';
import type { ConfigIssue } from '../../config/types.js';
import type { Discovery, DiscoveryEvents } from '../types.js';
import { parseEndpointsFile } from './endpoints-file.js';
import { UpdateReporter, type DiscoveryDeps } from './reporter.js';

const DEBOUNCE_MS = 50;
const POLL_MS = 1_000;

export class FileDiscovery implements Discovery {
  readonly #path: string;
  readonly #name: string;
  readonly #reporter: UpdateReporter;
  #running = false;
  #watcher: FSWatcher | null = null;
  #poll: NodeJS.Timeout | null = null;
  #debounce: NodeJS.Timeout | null = null;
  /** What the last read saw (`ino:size:mtime`, or the errno); the poll reads again when it differs. */
  #seen: string | null = null;
  #reading = false;
  /** A change came while a read was under way: read again after it. */
  #again = false;

  constructor(cluster: string, path: string, deps: DiscoveryDeps) {
    this.#path = path;
    this.#name = basename(path);
    this.#reporter = new UpdateReporter(cluster, deps);
  }

  start(events: DiscoveryEvents): void {
    this.#reporter.bind(events);
    this.#running = true;
    this.#watch();
    this.#poll = setInterval(this.#onPoll, POLL_MS);
    void this.#read();
  }

  initialized(timeoutMs: number): Promise<void> {
    return this.#reporter.initialized(timeoutMs);
  }

  stop(): void {
    this.#running = false;
    this.#watcher?.close();
    this.#watcher = null;
    for (const t of [this.#poll, this.#debounce]) if (t !== null) clearTimeout(t);
    this.#poll = null;
    this.#debounce = null;
    this.#reporter.close();
  }

  /** (Re)opens the directory watch; without one (the directory is gone, or watching fails) the poll carries on alone. */
  #watch(): void {
    try {
      const w = watch(dirname(this.#path), this.#onWatch);
      w.on('error', this.#onWatchError);
      this.#watcher = w;
    } catch {
      this.#watcher = null;
    }
  }

  readonly #onWatch = (_event: string, filename: string | Buffer | null): void => {
    // Some platforms give no name: then any change in the directory may be ours.
    if (filename === null || filename.toString() === this.#name) this.#schedule();
  };

  readonly #onWatchError = (): void => {
    this.#watcher?.close();
    this.#watcher = null;
  };

  readonly #onPoll = (): void => {
    if (this.#watcher === null) this.#watch();
    stat(this.#path).then(signature, errnoSignature).then(this.#onStat, () => {});
  };

  readonly #onStat = (sig: string): void => {
    if (this.#running && sig !== this.#seen) this.#schedule();
  };

  #schedule(): void {
    if (!this.#running) return;
    if (this.#debounce !== null) clearTimeout(this.#debounce);
    this.#debounce = setTimeout(this.#onQuiet, DEBOUNCE_MS);
  }

  readonly #onQuiet = (): void => {
    this.#debounce = null;
    void this.#read();
  };

  async #read(): Promise<void> {
    if (this.#reading) {
      this.#again = true;
      return;
    }
    this.#reading = true;
    try {
      do {
        this.#again = false;
        await this.#readOnce();
      } while (this.#again && this.#running);
    } finally {
      this.#reading = false;
    }
  }

  async #readOnce(): Promise<void> {
    this.#reporter.attempt();
    let text: string;
    try {
      // Stat first: a change after it shows as a new signature at the next poll, so it is read again.
      this.#seen = signature(await stat(this.#path));
      text = await readFile(this.#path, 'utf8');
    } catch (err: unknown) {
      this.#seen = errnoSignature(err);
      if (this.#running) this.#fail([{ file: this.#path, line: 1, col: 1, path: '(file)', message: `cannot read the endpoints file: ${errnoCode(err) ?? String(err)}` }]);
      return;
    }
    if (!this.#running) return;
    const r = parseEndpointsFile(text, this.#path);
    if (r.ok) this.#reporter.success(r.endpoints);
    else this.#fail(r.issues);
  }

  #fail(issues: readonly ConfigIssue[]): void {
    this.#reporter.failure('PROXYCTL_ERR_DISCOVERY_FILE', byPosition(issues).map(formatIssue).join('\n'));
  }
}

function signature(s: Stats): string {
  return `${s.ino}:${s.size}:${s.mtimeMs}`;
}

function errnoSignature(err: unknown): string {
  return `error:${errnoCode(err) ?? 'unknown'}`;
}
