// Raised for timer definitions (durations, dates, cycles, cron, retry cycles) that cannot be parsed
// or that have no due date left.
export class TimerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimerError';
  }
}
