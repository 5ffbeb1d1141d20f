// worker_threads side of the thread baselines (started by bench/baselines.ts).
//
//   mode 'pingpong': serve the SAB ping-pong protocol (bench/pingpong.ts) until STOP, then
//                    return so the thread exits with code 0.
//   mode 'idle':     an idle worker for the memory baseline: gc, report ready, and wait for
//                    'stop' on the port (the open port is what keeps the thread alive).

import { parentPort, workerData } from 'node:worker_threads';

import { gcFunction } from './gc.js';
import { PING, PONG, servePingPong } from './pingpong.js';

interface PingPongData { mode: 'pingpong'; sab: SharedArrayBuffer; idleSpinMs: number }
interface IdleData { mode: 'idle' }
type Data = PingPongData | IdleData;

const data = workerData as Data;
const port = parentPort!;

if (data.mode === 'pingpong') {
  const words = new Int32Array(data.sab);
  port.postMessage('ready');
  // The 1 s timeout only bounds how long a lost wake could stall; wakes are not lost.
  servePingPong(
    words,
    data.idleSpinMs,
    (expected) => void Atomics.wait(words, PING, expected, 1000),
    () => void Atomics.notify(words, PONG, 1),
  );
} else {
  gcFunction()?.();
  port.on('message', (m) => {
    if (m === 'stop') port.close();
  });
  port.postMessage('ready');
}
