/**
 * @module cli/lib/stop-signal
 * Gathers the reasons `hmdrv run` stops: SIGINT, SIGTERM or a `stop` request. The first one
 * starts a clean shutdown; a second signal means "now" and calls `onForce` (exit 130).
 *
 * @example
 * const stop = new StopSignal(() => process.exit(130));
 * await ControlServer.listen(kernel, path, { onStop: () => stop.trigger('stop request') });
 * const reason = await stop.reason;
 */
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export class StopSignal {
  readonly reason: Promise<string>;
  private resolve!: (reason: string) => void;
  private fired = false;
  private readonly onSignal = (signal: NodeJS.Signals) => {
    if (this.fired) this.onForce(signal);
    else this.trigger(signal);
  };

  constructor(private readonly onForce: (signal: NodeJS.Signals) => void) {
    this.reason = new Promise((resolve) => { this.resolve = resolve; });
    for (const s of SIGNALS) process.on(s, this.onSignal);
  }

  get triggered(): boolean { return this.fired; }

  trigger(reason: string): void {
    if (this.fired) return;
    this.fired = true;
    this.resolve(reason);
  }

  dispose(): void {
    for (const s of SIGNALS) process.off(s, this.onSignal);
  }
}
