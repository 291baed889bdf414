// Timer definitions of BPMN timer events (timeDate, timeDuration, timeCycle) and Camunda's
// failedJobRetryTimeCycle. Expressions inside the text (`${...}`) must be resolved by the caller first.
import { parseCron, isCronText, type CronSchedule } from './timer-cron.ts';
import { RepeatingCycle } from './timer-cycle.ts';
import { parseDateTime } from './timer-date.ts';
import { addDuration, isDurationText, nominalMillis, parseDuration, type IsoDuration } from './timer-duration.ts';
import { TimerError } from './timer-error.ts';

export { TimerError } from './timer-error.ts';

export type TimerKind = 'timeDate' | 'timeDuration' | 'timeCycle';

export interface TimerDefinition {
  /** When the timer is first due, for a timer created at `now` (a timeDate may lie in the past). */
  firstDue(now: Date): Date;
  /** The due date after `previousDue`, given how often the timer has fired so far; null when finished. */
  nextDue(previousDue: Date, firedCount: number): Date | null;
}

export interface RetryCycle {
  /** How many retries a failed job gets. */
  readonly retries: number;
  /** Wait before each retry; for a comma list of durations the first one. */
  readonly intervalMs: number;
  /** For a comma list: the wait before retry 1, 2, ... (use the last one if more are needed). */
  readonly intervalsMs?: readonly number[];
}

export function parseTimer(kind: TimerKind, text: string): TimerDefinition {
  const trimmed = text.trim();
  if (trimmed === '') throw new TimerError(`Empty ${kind} timer definition`);
  switch (kind) {
    case 'timeDate': {
      const date = parseDateTime(trimmed);
      return { firstDue: () => new Date(date.getTime()), nextDue: () => null };
    }
    case 'timeDuration': {
      const duration = parseDuration(trimmed);
      return { firstDue: (now) => addDuration(now, duration), nextDue: () => null };
    }
    case 'timeCycle':
      return trimmed.startsWith('R') ? parseRepeatingCycle(trimmed) : parseCronCycle(trimmed);
    default:
      throw new TimerError(`Unknown timer kind '${String(kind)}'`);
  }
}

/** `R3/PT5S` → 3 attempts 5 s apart; `PT1M,PT5M,PT10M` → 3 attempts, the n-th failure waiting the n-th duration (job-executor.ts). */
export function parseRetryCycle(text: string): RetryCycle {
  const trimmed = text.trim();
  if (trimmed.startsWith('R')) {
    const match = /^R(\d+)\/(P[^/]+)$/.exec(trimmed);
    if (!match) throw new TimerError(`Invalid retry time cycle '${text}': expected R<count>/<duration>`);
    return { retries: Number(match[1]), intervalMs: nominalMillis(parseDuration(match[2]!)) };
  }
  const intervalsMs = trimmed.split(',').map((part) => {
    if (!isDurationText(part)) throw new TimerError(`Invalid retry time cycle '${text}'`);
    return nominalMillis(parseDuration(part));
  });
  return { retries: intervalsMs.length, intervalMs: intervalsMs[0]!, intervalsMs };
}

function parseRepeatingCycle(text: string): TimerDefinition {
  const [head, ...rest] = text.split('/');
  const countMatch = /^R(\d*)$/.exec(head!);
  if (!countMatch) throw new TimerError(`Invalid timeCycle '${text}': bad repetition '${head}'`);
  const repetitions = countMatch[1] === '' ? null : Number(countMatch[1]);
  if (repetitions === 0) throw new TimerError(`Invalid timeCycle '${text}': R0 never fires`);
  let interval: IsoDuration;
  let start: Date | undefined;
  if (rest.length === 1 && isDurationText(rest[0]!)) {
    interval = parseDuration(rest[0]!);
  } else if (rest.length === 2 && !isDurationText(rest[0]!) && isDurationText(rest[1]!)) {
    start = parseDateTime(rest[0]!);
    interval = parseDuration(rest[1]!);
  } else {
    throw new TimerError(`Invalid timeCycle '${text}': expected R[n]/<duration> or R[n]/<start>/<duration>`);
  }
  return new RepeatingCycle({ text, repetitions, interval, ...(start ? { start } : {}) });
}

function parseCronCycle(text: string): TimerDefinition {
  if (!isCronText(text)) {
    throw new TimerError(`Invalid timeCycle '${text}': expected R[n]/... or a 6/7-field cron expression`);
  }
  const schedule: CronSchedule = parseCron(text);
  return {
    firstDue(now) {
      const due = schedule.nextAfter(now);
      if (!due) throw new TimerError(`Cron expression '${text}' has no fire time after ${now.toISOString()}`);
      return due;
    },
    nextDue: (previousDue) => schedule.nextAfter(previousDue),
  };
}
