/**
 * Stops what the main command started, in reverse order, once, on SIGINT/SIGTERM or on request. Each step is
 * awaited and its failure logged, so one stuck part does not leave the others running.
 */
export class Shutdown {
  private readonly steps: {name: string; stop: () => Promise<void>}[] = []
  started = false

  constructor() {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void this.run(0))
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
