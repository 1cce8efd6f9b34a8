/**
 * Stops what the main command started, in reverse order, once, on SIGINT/SIGTERM or on request. Each step is
 * awaited and its failure logged, so one stuck part does not leave the others running.
 */
export class Shutdown {
  private readonly steps: {name: string; stop: () => Promise<void>}[] = []
  started = false

  constructor() {
    // A listener that stays: other modules' hooks (anvil.ts) see that the signal is handled and leave it to this one.
    // A second signal ends the process at once (a stop step that hangs; the user presses Ctrl-C again).
    let signalled = false
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.on(signal, () => {
        if (signalled) {
          console.error(`[deai-lens] ${signal} again while stopping: exiting now`)
          process.exit(130)
        }
        signalled = true
        void this.run(0)
      })
    }
  }

  add(name: string, stop: () => Promise<void>): void {
    this.steps.push({name, stop})
  }

  async run(exitCode: number): Promise<void> {
    if (this.started) return
    this.started = true
    for (const step of [...this.steps].reverse()) {
      try {
        await step.stop()
      } catch (e) {
        console.error(`[deai-lens] stopping ${step.name} failed: ${(e as Error).message}`)
      }
    }
    process.exit(exitCode)
  }
}
