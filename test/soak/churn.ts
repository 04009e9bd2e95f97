/**
 * What changes under the soak's load: a backend that goes away and comes back, a file-discovery
 * cluster whose endpoint file gains and loses a host, and `proxyctl reload` on a timer. Each
 * runs on its own timer until `stop()`, and counts what it did.
 */
import type { ChildProcess } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import type { OwnedProcesses } from './processes.js';
import { runCli } from '../fixtures/supervisor-util.js';

/** Backend `name` on `port`: SIGKILLed every `periodMs`, started again on the same port half a period later. */
export class Flapper {
  flaps = 0;
  #child: ChildProcess | null = null;
  #timer: NodeJS.Timeout | null = null;
  #busy: Promise<void> = Promise.resolve();

  constructor(
    private readonly procs: OwnedProcesses,
    readonly port: number,
    private readonly periodMs: number,
  ) {}

  async start(): Promise<void> {
    this.#child = (await this.procs.backend('named-backend', ['127.0.0.1', String(this.port), 'flapper'])).child;
    this.#timer = setInterval(() => {
      this.#busy = this.#busy.then(() => this.#flap());
    }, this.periodMs);
  }

  async stop(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    await this.#busy;
  }

  async #flap(): Promise<void> {
    if (this.#child !== null) await this.procs.kill(this.#child);
    this.#child = null;
    await new Promise((r) => setTimeout(r, this.periodMs / 2));
    this.#child = (await this.procs.backend('named-backend', ['127.0.0.1', String(this.port), 'flapper'])).child;
    this.flaps++;
  }
}

/**
 * The endpoint file of a `discovery: file` cluster over a pool of hosts: every `everyMs` it
 * either adds the next host of the pool or removes the oldest listed one, never leaving fewer
 * than two. Written to a temporary name and renamed, as deploy tools do.
 */
export class EndpointFile {
  edits = 0;
  #listed: number[];
  #next: number;
  #timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly path: string,
    private readonly pool: readonly number[],
    private readonly everyMs: number,
  ) {
    this.#listed = pool.slice(0, 2);
    this.#next = 2 % pool.length;
    this.#write();
  }

  start(): void {
    this.#timer = setInterval(() => this.#edit(), this.everyMs);
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
  }

  #edit(): void {
    const candidate = this.pool[this.#next]!;
    if (this.#listed.length > 2 || this.#listed.includes(candidate)) this.#listed.shift();
    else {
      this.#listed.push(candidate);
      this.#next = (this.#next + 1) % this.pool.length;
    }
    this.#write();
    this.edits++;
  }

  #write(): void {
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, `endpoints: [${this.#listed.map((p) => `127.0.0.1:${p}`).join(', ')}]\n`);
    renameSync(tmp, this.path);
  }
}

/**
 * `proxyctl reload` (the config file re-read) every `everyMs` from one start to the next, or
 * at once when the last one took longer: never two at a time, which would only coalesce.
 */
export class Reloader {
  done = 0;
  readonly failures: string[] = [];
  #timer: NodeJS.Timeout | null = null;
  #busy: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(
    private readonly common: readonly string[],
    private readonly everyMs: number,
  ) {}

  start(waitMs = this.everyMs): void {
    this.#timer = setTimeout(() => {
      const began = Date.now();
      this.#busy = this.#reload().then(() => {
        if (!this.#stopped) this.start(Math.max(0, this.everyMs - (Date.now() - began)));
      });
    }, waitMs);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    await this.#busy;
  }

  async #reload(): Promise<void> {
    const r = await runCli(['reload', '--json', ...this.common]);
    if (r.code === 0) this.done++;
    else this.failures.push(`reload exit ${r.code}: ${r.json?.error?.code ?? r.stderr.trim()}`);
  }
}
