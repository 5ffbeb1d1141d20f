// `npm run bench` entry: runs the registered bench suites in order.
//
//   node dist/bench/main.js [--quick] [--filter <regex>] [--suite <name>] [--strict] [--no-write] [--list]
//
// To add a suite, write bench/suites/<name>.ts with a default export implementing `Suite`
// (bench/harness.ts) and add a line to `suites` below. Suites are loaded lazily, so one
// that fails to import does not stop the others from being listed or selected.

import './gc-init.js'; // before anything imports mitata
import { pathToFileURL } from 'node:url';

import { parseOptions, UsageError, type Suite } from './harness.js';

export interface SuiteEntry {
  name: string;
  load(): Promise<Suite>;
}

/** Registered suites, run in this order. */
export const suites: SuiteEntry[] = [
  { name: 'ipc-baselines', load: async () => (await import('./suites/ipc-baselines.js')).default },
  { name: 'containers', load: async () => (await import('./suites/containers.js')).default },
  { name: 'models', load: async () => (await import('./suites/models.js')).default },
  { name: 'block', load: async () => (await import('./suites/block.js')).default },
  { name: 'net', load: async () => (await import('./suites/net.js')).default },
];

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  let options;
  try {
    options = parseOptions(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(err.message.trim());
      return 2;
    }
    throw err;
  }
  if (options.list) {
    for (const s of suites) {
      const suite = await s.load();
      console.log(`${s.name.padEnd(20)} ${suite.description}`);
    }
    return 0;
  }
  const unknown = options.suites.filter((n) => !suites.some((s) => s.name === n));
  if (unknown.length) {
    console.error(`unknown suite(s): ${unknown.join(', ')}; known: ${suites.map((s) => s.name).join(', ')}`);
    return 2;
  }
  let status = 0;
  for (const entry of suites) {
    if (options.suites.length && !options.suites.includes(entry.name)) continue;
    try {
      const suite = await entry.load();
      const report = await suite.run(options);
      const errors = report.results.filter((r) => r.error);
      const failed = report.targets.filter((t) => t.pass === false);
      if (errors.length) status = 1;
      if (failed.length && options.strict) status = 1;
    } catch (err) {
      console.error(`bench suite ${entry.name} failed:`, err);
      status = 1;
    }
  }
  return status;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main();
  // Suites must stop every worker and child they start; if something still holds the event
  // loop, say so instead of hanging silently (the timer itself does not keep us alive).
  setTimeout(() => {
    console.error('bench: something still keeps the process alive after all suites finished; exiting');
    process.exit(process.exitCode ?? 1);
  }, 5000).unref();
}
