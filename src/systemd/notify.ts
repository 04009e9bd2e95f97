/**
 * sd_notify(3) from the supervisor, the service's main process: one datagram per message on
 * $NOTIFY_SOCKET, sent by the project's native addon (Node has no Unix datagram sockets).
 *
 *   READY=1 STATUS=… MAINPID=<pid>        epoch 0 is ready
 *   RELOADING=1 MONOTONIC_USEC=<µs>       a reload begins (CLOCK_MONOTONIC, as systemd 253+ wants it)
 *   READY=1                               it ended, well or not: a failed reload leaves the old epoch serving
 *   STOPPING=1                            a stop begins
 *   STATUS=<one line>                     whenever the summary changes (systemctl status shows it)
 *   WATCHDOG=1                            every WATCHDOG_USEC/2
 *
 * The watchdog pings from a timer and so proves that the supervisor's event loop runs. It does
 * not also wait for the active epoch to answer: a hung epoch is not a reason for systemd to
 * kill the whole service (every draining epoch's connections with it, KillMode=mixed), while
 * a reload replaces it without a refused connection; and a slow answer (a long GC pause)
 * would look the same as a hang.
 *
 * Sending never throws: a failure is logged once per kind (errno), and the supervisor serves on.
 */
import { errnoCode } from '../errors.js';
import type { Logger } from '../log.js';
import { nativeSockets, type NativeSockets } from '../native.js';
import type { ObservedEpoch, SupervisorObserver } from '../epoch/supervisor/observer.js';

/** While an epoch drains, the status line's connection counts are refreshed this often. */
const DRAIN_REFRESH_MS = 1_000;

export class SystemdNotifier implements SupervisorObserver {
  #epochs: readonly ObservedEpoch[] = [];
  /** Connections of each draining epoch, as last asked. */
  #conns = new Map<number, number | null>();
  #status = '';
  /** READY=1 was sent: status lines before it would describe a service that is not up yet. */
  #ready = false;
  #reloading = false;
  #stopping = false;
  #lastReloadFailed = false;
  /** Bumped by each refresh, so an answer that comes after a newer refresh began is dropped. */
  #generation = 0;
  #refresh: NodeJS.Timeout | null = null;
  #watchdog: NodeJS.Timeout | null = null;
  readonly #warned = new Set<string>();
  readonly #native: NativeSockets | null = nativeSockets();

  constructor(
    private readonly socket: string,
    watchdogUsec: number | null,
    private readonly log: Logger,
  ) {
    if (this.#native === null) log.warn('NOTIFY_SOCKET is set but the native socket addon is not built (run npm ci): systemd will not hear from us', { socket });
    if (watchdogUsec !== null) {
      this.#watchdog = setInterval(() => this.#send('WATCHDOG=1'), Math.max(1, Math.floor(watchdogUsec / 2_000)));
      this.#watchdog.unref();
    }
  }

  ready(epochs: readonly ObservedEpoch[]): void {
    this.#epochs = epochs;
    this.#ready = true;
    this.#status = this.#line();
    this.#send(`READY=1\nSTATUS=${this.#status}\nMAINPID=${process.pid}`);
  }

  reloadStarted(): void {
    this.#reloading = true;
    this.#status = this.#line();
    this.#send(`RELOADING=1\nMONOTONIC_USEC=${process.hrtime.bigint() / 1000n}\nSTATUS=${this.#status}`);
  }

  reloadEnded(ok: boolean): void {
    this.#reloading = false;
    this.#lastReloadFailed = !ok;
    this.#status = this.#line();
    this.#send(`READY=1\nSTATUS=${this.#status}`);
  }

  stopping(): void {
    this.#stopping = true;
    this.#status = this.#line();
    this.#send(`STOPPING=1\nSTATUS=${this.#status}`);
  }

  epochsChanged(epochs: readonly ObservedEpoch[]): void {
    this.#epochs = epochs;
    void this.#refreshStatus();
  }

  stopped(): void {
    if (this.#watchdog !== null) clearInterval(this.#watchdog);
    if (this.#refresh !== null) clearInterval(this.#refresh);
    this.#watchdog = this.#refresh = null;
    this.#generation++;
  }

  /** Asks each draining epoch for its connections, then sends the line if it changed; refreshes each second while any drains. */
  async #refreshStatus(): Promise<void> {
    const generation = ++this.#generation;
    const draining = this.#epochs.filter((e) => e.state === 'draining');
    if (draining.length > 0 && this.#refresh === null) {
      this.#refresh = setInterval(() => void this.#refreshStatus(), DRAIN_REFRESH_MS);
      this.#refresh.unref();
    } else if (draining.length === 0 && this.#refresh !== null) {
      clearInterval(this.#refresh);
      this.#refresh = null;
    }
    const counts = await Promise.all(draining.map((e) => e.connections()));
    if (generation !== this.#generation) return;
    this.#conns = new Map(draining.map((e, i) => [e.number, counts[i] ?? null]));
    const line = this.#line();
    if (line === this.#status || !this.#ready) return;
    this.#status = line;
    this.#send(`STATUS=${line}`);
  }

  /** "epoch 4 active, epoch 3 draining 12 conns", with what the supervisor is doing in front. */
  #line(): string {
    // The active epoch first, then the others newest first.
    const epochs = [...this.#epochs].sort((a, b) => Number(b.state === 'active') - Number(a.state === 'active') || b.number - a.number);
    const parts = epochs.map((e) => {
      if (e.state === 'draining') {
        const n = this.#conns.get(e.number);
        return `epoch ${e.number} ${e.hostDrained ? 'out of rotation' : 'draining'}${n === undefined || n === null ? '' : ` ${n} conns`}`;
      }
      return `epoch ${e.number} ${e.state}`;
    });
    if (!this.#epochs.some((e) => e.state === 'active') && !this.#stopping) parts.unshift('no epoch active');
    const doing = this.#stopping ? 'stopping: ' : this.#reloading ? 'reloading: ' : '';
    return `${doing}${parts.join(', ') || 'no epochs'}${this.#lastReloadFailed && !this.#stopping ? ' (last reload failed)' : ''}`;
  }

  #send(message: string): void {
    if (this.#native === null) return;
    try {
      this.#native.sendDatagram(this.socket, Buffer.from(message));
    } catch (err: unknown) {
      const code = errnoCode(err) ?? 'unknown';
      if (this.#warned.has(code)) return;
      this.#warned.add(code);
      this.log.warn('cannot notify systemd; the service manager may not know our state', { socket: this.socket, code, error: err });
    }
  }
}
