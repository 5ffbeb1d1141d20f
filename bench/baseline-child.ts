// Child-process side of the process baselines (started by bench/baselines.ts).
// Usage: node baseline-child.js <mode> [args]
//
//   shm <bytes> <idleSpinMs>  map the memfd passed as fd 3 and serve the ping-pong protocol
//                             (bench/pingpong.ts) with native futex sleep; exit 0 on STOP
//   ipc                       echo every process.send message back (fork's IPC channel);
//                             exits when the parent disconnects
//   uds <path>                connect to the parent's unix socket and echo every byte;
//                             exits when the parent ends the connection
//   idle                      report 'ready' over IPC and idle until the parent disconnects
//                             (memory baseline)
//
// Every mode ends by running out of work, so a clean shutdown is exit code 0.

import { connect } from 'node:net';

import { gcFunction } from './gc.js';
import { loadNative } from './native.js';
import { PING, PONG, servePingPong } from './pingpong.js';

const [mode, ...args] = process.argv.slice(2);

switch (mode) {
  case 'shm': {
    const native = loadNative();
    const bytes = Number(args[0]);
    const idleSpinMs = Number(args[1]);
    const words = new Int32Array(native.mapFd(3, bytes));
    // futexWait returns on wake, EINTR, value change or timeout; servePingPong re-checks PING.
    servePingPong(
      words,
      idleSpinMs,
      (expected) => void native.futexWait(words, PING, expected, 1000),
      () => void native.futexWake(words, PONG, 1),
    );
    break;
  }
  case 'ipc': {
    process.on('message', (m) => process.send!(m));
    break;
  }
  case 'uds': {
    const sock = connect(args[0]!);
    sock.on('data', (chunk) => sock.write(chunk));
    sock.on('end', () => sock.end());
    sock.on('error', (err) => {
      console.error(`baseline-child uds: ${err.message}`);
      process.exitCode = 1;
    });
    break;
  }
  case 'idle': {
    gcFunction()?.();
    // Node refs a child's IPC channel only while 'message' listeners exist; this one keeps
    // the process alive until the parent disconnects.
    process.on('message', () => {});
    process.send!('ready');
    break;
  }
  default:
    console.error(`baseline-child: unknown mode ${String(mode)}`);
    process.exitCode = 2;
}
