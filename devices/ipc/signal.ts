/**
 * @module signal
 * How a ring's consumer sleeps and how its producer wakes it.
 *
 *  - 'atomics': both ends in one process (IC1): Atomics.wait / Atomics.notify / Atomics.waitAsync.
 *  - 'futex':   ends in different processes (IC2): V8 keeps Atomics waiter lists per process,
 *               so wake-ups use the native core's FUTEX_WAIT/FUTEX_WAKE on shared memory, and the
 *               event-loop side listens through a native doorbell thread.
 */
import { native } from '../native/index.js';
import { SEQ } from './ring.js';

export type SignalKind = 'atomics' | 'futex';

/** A persistent listener that calls back on the owner's event loop when a ring's SEQ changes. */
export interface AsyncListener {
  close(): void;
}

export interface Signal {
  readonly kind: SignalKind;
  /** Bumps SEQ and wakes whoever sleeps on it. */
  wake(ctrl: Int32Array): void;
  /** Blocks while SEQ still equals `seq`, at most `timeoutMs`. */
  sleep(ctrl: Int32Array, seq: number, timeoutMs: number): void;
  /** Calls `onRing` (on this thread's event loop) whenever SEQ changes. */
  listen(ctrl: Int32Array, onRing: () => void): AsyncListener;
}

export const atomicsSignal: Signal = {
  kind: 'atomics',
  wake(ctrl) {
    Atomics.add(ctrl, SEQ, 1);
    Atomics.notify(ctrl, SEQ);
  },
  sleep(ctrl, seq, timeoutMs) {
    Atomics.wait(ctrl, SEQ, seq, timeoutMs);
  },
  listen(ctrl, onRing) {
    let open = true;
    // SEQ is read BEFORE the callback runs: a wake that lands while the callback finds the ring
    // empty then makes the next wait return at once instead of being lost.
    const arm = (seq: number): void => {
      if (!open) return;
      const r = Atomics.waitAsync(ctrl, SEQ, seq);
      const fire = (): void => { if (!open) return; const next = Atomics.load(ctrl, SEQ); onRing(); arm(next); };
      if (r.async) void r.value.then(fire);
      else setImmediate(fire);
    };
    arm(Atomics.load(ctrl, SEQ));
    return { close: () => { open = false; Atomics.notify(ctrl, SEQ); } };
  },
};

export const futexSignal: Signal = {
  kind: 'futex',
  wake(ctrl) {
    Atomics.add(ctrl, SEQ, 1);
    native().futexWake(ctrl, SEQ);
  },
  sleep(ctrl, seq, timeoutMs) {
    native().futexWait(ctrl, SEQ, seq, timeoutMs);
  },
  listen(ctrl, onRing) {
    const n = native();
    const id = n.doorbellOpen(ctrl, SEQ, onRing);
    return { close: () => n.doorbellClose(id) };
  },
};

export function signalFor(kind: SignalKind): Signal {
  return kind === 'futex' ? futexSignal : atomicsSignal;
}
