// The display thread of bench/models/display.ts: BochsDisplay + its vblank/flip driver over a
// RealClock, in a worker of its own. Messages: 'stats' -> { type: 'stats', stats }, 'mark' -> the same, then a
// new measuring window starts, 'stop' ->
// final stats, then the model is unrealized (the parent terminates the worker).

import { parentPort, workerData } from 'node:worker_threads';

import { RealClock } from '../../devices/core/clock.js';
import { Scheduler } from '../../devices/core/scheduler.js';
import { DisplayRun, type DisplayRunOptions } from './display.js';

const clock = new RealClock();
const run = new DisplayRun(clock, new Scheduler(clock), workerData as DisplayRunOptions);
run.start();

parentPort!.on('message', (m: { type: string }) => {
  if (m.type === 'stats') parentPort!.postMessage({ type: 'stats', stats: run.stats() });
  else if (m.type === 'mark') {
    parentPort!.postMessage({ type: 'stats', stats: run.stats() });
    run.mark();
  }
  else if (m.type === 'stop') {
    parentPort!.postMessage({ type: 'stats', stats: run.stop() });
    parentPort!.close();
  }
});
parentPort!.postMessage({ type: 'ready' });
