/**
 * The network media: delivery through the scheduler (never inside send), FIFO order, latency
 * and line rate, link changes, the learning switch, host endpoints and taps.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../core/clock.js';
import { Scheduler } from '../core/scheduler.js';
import { ethFrame } from './e1000.testing.js';
import { HostEndpoint, parseRate, Switch, Wire, wireTimeNs, type TapDirection } from './wire.js';

function env() {
  const clock = new VirtualClock();
  return { clock, sched: new Scheduler(clock) };
}

const mac = (n: number) => `02:00:00:00:00:${n.toString(16).padStart(2, '0')}`;

describe('line-rate arithmetic', () => {
  it('parses rates and matches the RFC 5180 frame times', () => {
    assert.equal(parseRate('unlimited'), 0);
    assert.equal(parseRate(undefined), 0);
    assert.equal(parseRate('1g'), 1e9);
    assert.equal(parseRate('100M'), 1e8);
    assert.equal(parseRate('2.5g'), 2.5e9);
    assert.equal(parseRate(1e10), 1e10);
    assert.throws(() => parseRate('fast' as never), RangeError);
    assert.throws(() => parseRate(-1), RangeError);
    assert.equal(wireTimeNs(60, 1e9), 672n, '64-byte frame: 1,488,095 pps');
    assert.equal(wireTimeNs(14, 1e9), 672n, 'short frames are padded');
    assert.equal(wireTimeNs(1514, 1e9), 12_304n, '1518-byte frame: 81,274 pps');
    assert.equal(wireTimeNs(1514, 1e10), 1231n, '1.2304 us, rounded up');
    assert.equal(wireTimeNs(1514, 0), 0n);
  });
});

describe('Wire', () => {
  it('delivers in a later event, in order, never inside send()', () => {
    const { clock, sched } = env();
    const w = new Wire({ scheduler: sched });
    const a = new HostEndpoint(w.a, { scheduler: sched }), b = new HostEndpoint(w.b, { scheduler: sched });
    const f1 = ethFrame({ dst: mac(2), src: mac(1), seed: 1 }), f2 = ethFrame({ dst: mac(2), src: mac(1), seed: 2 });
    let inside = false;
    b.onFrame(() => assert.equal(inside, false));
    inside = true;
    assert.ok(a.send(f1));
    assert.ok(a.send(f2));
    inside = false;
    assert.equal(b.received.length, 0);
    clock.runUntilIdle();
    assert.deepEqual(b.take().map((r) => r.frame), [f1, f2]);
    f1[20] = 0xaa;
    assert.notEqual(w.stats.frames, 0);
    assert.equal(a.received.length, 0, 'nothing echoes back');
  });

  it('applies latency and line rate per direction', () => {
    const { clock, sched } = env();
    const w = new Wire({ scheduler: sched, rate: '1g', latencyNs: 500 });
    const a = new HostEndpoint(w.a, { scheduler: sched }), b = new HostEndpoint(w.b, { scheduler: sched });
    for (let i = 0; i < 3; i++) a.send(ethFrame({ dst: mac(2), src: mac(1), seed: i }));
    b.send(ethFrame({ dst: mac(1), src: mac(2) }));
    clock.runUntilIdle();
    assert.deepEqual(b.received.map((r) => r.tNs), [1172n, 1844n, 2516n]);
    assert.deepEqual(a.received.map((r) => r.tNs), [1172n], 'the other direction is independent');
  });

  it('drops frames while unplugged, including those in flight, and reports carrier changes', () => {
    const { clock, sched } = env();
    const w = new Wire({ scheduler: sched, latencyNs: 1000 });
    const a = new HostEndpoint(w.a, { scheduler: sched }), b = new HostEndpoint(w.b, { scheduler: sched });
    const changes: boolean[] = [];
    w.b.onLinkChange((up) => changes.push(up));
    a.send(ethFrame({ dst: mac(2), src: mac(1) }));
    w.setConnected(false);
    assert.equal(w.b.linkUp, true, 'the change arrives through the scheduler');
    clock.runUntilIdle();
    assert.equal(b.received.length, 0);
    assert.equal(w.stats.dropped, 1);
    assert.equal(a.send(ethFrame({ dst: mac(2), src: mac(1) })), false);
    w.setConnected(true);
    clock.runUntilIdle();
    assert.deepEqual(changes, [false, true]);
    assert.ok(a.send(ethFrame({ dst: mac(2), src: mac(1) })));
    clock.runUntilIdle();
    assert.equal(b.received.length, 1);
  });

  it('delivers a burst sent at one instant in one event, in order, then ends the run once', () => {
    const { clock, sched } = env();
    const w = new Wire({ scheduler: sched });
    const got: Uint8Array[] = [], ends: number[] = [];
    w.b.onReceive((f) => got.push(f), () => ends.push(got.length));
    const sent = Array.from({ length: 50 }, (_, i) => ethFrame({ dst: mac(2), src: mac(1), seed: i }));
    for (const f of sent) w.a.send(f);
    assert.equal(clock.runUntilIdle(), 1, 'one scheduler event for the whole burst');
    assert.deepEqual(got, sent);
    assert.deepEqual(ends, [50]);
  });

  it('frames sent while a run is delivering wait for the next event', () => {
    const { clock, sched } = env();
    const w = new Wire({ scheduler: sched });
    const runs: number[][] = [];
    let run: number[] = [];
    w.b.onReceive((f) => {
      run.push(f[14]!);
      if (f[14] === 1) w.a.send(ethFrame({ dst: mac(2), src: mac(1), seed: 2 - 14 * 7 })); // byte 14 = 2
    }, () => { runs.push(run); run = []; });
    w.a.send(ethFrame({ dst: mac(2), src: mac(1), seed: 1 - 14 * 7 }));
    w.a.send(ethFrame({ dst: mac(2), src: mac(1), seed: 3 - 14 * 7 }));
    assert.equal(clock.runUntilIdle(), 2);
    assert.deepEqual(runs, [[1, 3], [2]]);
  });

  it('with a line rate each frame arrives on its own, and each run ends', () => {
    const { clock, sched } = env();
    const w = new Wire({ scheduler: sched, rate: '1g' });
    const times: bigint[] = [], ends: bigint[] = [];
    w.b.onReceive(() => times.push(sched.now()), () => ends.push(sched.now()));
    for (let i = 0; i < 3; i++) w.a.send(ethFrame({ dst: mac(2), src: mac(1), seed: i }));
    clock.runUntilIdle();
    assert.deepEqual(times, [672n, 1344n, 2016n]);
    assert.deepEqual(ends, times);
  });

  it('taps see frames entering the wire, and ports see both directions', () => {
    const { clock, sched } = env();
    const w = new Wire({ scheduler: sched });
    const a = new HostEndpoint(w.a), b = new HostEndpoint(w.b);
    const wireSeen: string[] = [], portSeen: [string, TapDirection][] = [];
    w.tap((_f, _t, port, dir) => wireSeen.push(`${port}:${dir}`));
    w.a.tap((_f, _t, port, dir) => portSeen.push([port, dir]));
    a.send(ethFrame({ dst: mac(2), src: mac(1) }));
    b.send(ethFrame({ dst: mac(1), src: mac(2) }));
    clock.runUntilIdle();
    assert.deepEqual(wireSeen, ['wire.a:out', 'wire.b:out']);
    assert.deepEqual(portSeen, [['wire.a', 'out'], ['wire.a', 'in']]);
  });
});

describe('Switch', () => {
  function star(n: number, agingNs?: number) {
    const { clock, sched } = env();
    const sw = new Switch({ scheduler: sched, ports: n, agingNs });
    const hosts = sw.ports.map((p) => new HostEndpoint(p, { scheduler: sched }));
    const send = (from: number, to: number | 'bcast', seed = 0) =>
      hosts[from]!.send(ethFrame({ dst: to === 'bcast' ? 'ff:ff:ff:ff:ff:ff' : mac(to), src: mac(from), seed }));
    const counts = () => hosts.map((h) => h.take().length);
    return { clock, sched, sw, hosts, send, counts };
  }

  it('floods unknown destinations, then forwards to the learned port only', () => {
    const s = star(3);
    s.send(0, 1);
    s.clock.runUntilIdle();
    assert.deepEqual(s.counts(), [0, 1, 1], 'unknown unicast floods');
    s.send(1, 0);
    s.clock.runUntilIdle();
    assert.deepEqual(s.counts(), [1, 0, 0], 'host 0 was learned on port 0');
    s.send(0, 1);
    s.clock.runUntilIdle();
    assert.deepEqual(s.counts(), [0, 1, 0], 'host 1 was learned on port 1');
    s.send(2, 'bcast');
    s.clock.runUntilIdle();
    assert.deepEqual(s.counts(), [1, 1, 0], 'broadcast floods, never back to the sender');
    assert.deepEqual(s.sw.macTable().sort((x, y) => x.port - y.port), [{ mac: mac(0), port: 0 }, { mac: mac(1), port: 1 }, { mac: mac(2), port: 2 }]);
  });

  it('filters frames for the port they came from, ages entries out and forgets ports that go down', () => {
    const s = star(3, 1_000_000);
    s.send(1, 0);
    s.send(0, 1);
    s.clock.runUntilIdle();
    assert.deepEqual(s.counts(), [1, 1, 1], 'flooded once, then forwarded');
    s.send(2, 2); // host 2 to itself: learned on port 2, then filtered there
    s.clock.runUntilIdle();
    assert.deepEqual(s.counts(), [0, 0, 0]);
    assert.equal(s.sw.stats.filtered, 1);
    s.clock.advance(2_000_000);
    assert.deepEqual(s.sw.macTable(), [], 'every entry aged out');
    s.send(2, 0);
    s.clock.runUntilIdle();
    assert.deepEqual(s.counts(), [1, 1, 0], 'aged out: flooded again');
    s.send(1, 2);
    s.clock.runUntilIdle();
    s.sw.setLink(1, false);
    s.clock.runUntilIdle();
    assert.equal(s.sw.macTable().some((e) => e.port === 1), false);
    assert.equal(s.send(1, 0), false, 'a port that is down drops what its host sends');
  });
});
