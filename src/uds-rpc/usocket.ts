/**
 * usocket, with its close made safe against the garbage collector. Import USocket and UServer
 * from here, never from 'usocket' itself.
 *
 * usocket's native wraps embed their uv_poll_t in the C++ object, and `close()` calls
 * uv_close() with no callback while the JS side drops its only reference to the wrap at once.
 * libuv finishes the close later in the same loop turn (its closing phase). A garbage
 * collection in between runs the wrap's destructor, frees the handle, and libuv then reads
 * freed memory: the process aborts in uv__finish_close or uv_poll_stop. It took one CI run in
 * a few dozen to hit; with `--expose-gc` and a gc() after each close it is every time
 * (test/rpc-close-gc.test.ts). Until usocket fixes it (1.1.0 is the newest), every closed wrap
 * is kept reachable for two turns of setImmediate, which always ends after the closing phase
 * the handle was queued for, whatever phase close() was called in.
 */
import { createRequire } from 'node:module';
import { nativeSockets } from '../native.js';

const require = createRequire(import.meta.url);

interface NativeWrapClass {
  prototype: { close(this: object): void };
}

/** Wraps closed but maybe not yet finished by libuv. */
const closing = new Set<object>();

function pinClose(wrapClass: NativeWrapClass): void {
  const close = wrapClass.prototype.close;
  wrapClass.prototype.close = function pinnedClose(this: object): void {
    closing.add(this);
    close.call(this);
    setImmediate(() => setImmediate(() => closing.delete(this)));
  };
}

/** The very module object usocket loaded through `bindings` (the require cache is shared). */
function loadedNativeModule(): { USocketWrap: NativeWrapClass; UServerWrap: NativeWrapClass } {
  const file = Object.keys(require.cache).find((k) => /[\\/]usocket[\\/].*[\\/]uwrap\.node$/.test(k));
  if (file === undefined) throw new Error('usocket native module not found in the require cache');
  return require(file) as { USocketWrap: NativeWrapClass; UServerWrap: NativeWrapClass };
}

const native = loadedNativeModule();
pinClose(native.USocketWrap);
pinClose(native.UServerWrap);

/**
 * usocket makes its sockets without SOCK_CLOEXEC, so every process spawned afterwards inherits
 * them: each epoch held the supervisor's listening RPC socket, which then outlived a SIGKILLed
 * supervisor and made the next `proxyctl start` find it "in use". Call on every usocket fd.
 */
export function closeOnExec(fd: number | undefined): void {
  if (fd !== undefined) nativeSockets()?.setCloexec(fd);
}

// The re-exported module is evaluated before this one, so its native module is in the cache.
export { UServer, USocket, type USocketWrite } from 'usocket';
