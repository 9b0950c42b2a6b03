// A job run every interval, one run at a time: a run asked for while one is in flight joins it
// (the timer never stacks runs behind a slow store). A run's error goes to `onError`, never out.

export class PeriodicTask {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly body: () => Promise<void>,
    private readonly onError: (err: Error) => void,
  ) {}

  /** Runs every intervalMs from now on (the timer does not keep the process alive). */
  start(): void {
    this.timer = setInterval(() => void this.run(), this.intervalMs);
    this.timer.unref();
  }

  /** One run now, or the one in flight. Never rejects. */
  run(): Promise<void> {
    this.running ??= (async () => {
      try {
        await this.body();
      } catch (err) {
        this.onError(err as Error);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** No more runs; resolves when the one in flight has finished. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
