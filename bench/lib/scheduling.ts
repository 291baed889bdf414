// Where a segment's wall time went on this host: the machine's idle CPU time (/proc/stat) and, for one
// thread (a server's main thread), its time on a CPU and its time runnable but waiting for one
// (/proc/<pid>/task/<tid>/schedstat), so that a throughput below what CPU time explains can be told apart
// as the thread sleeping (nothing to do) or waiting to run (the CPUs taken by other processes).
import { readFileSync } from 'node:fs';

export interface SchedulingMark {
  /** Machine idle and total time so far, in clock ticks (all CPUs). */
  idle: number;
  total: number;
  /** The thread's time on a CPU and waiting to run so far, µs (0 when it is gone). */
  run: number;
  wait: number;
  at: number;
}

export interface SchedulingShares {
  /** Idle CPUs over the segment, in cores (0 to the number of CPUs). */
  idleCores: number;
  /** Shares of the segment's wall time the thread ran, waited to run, and slept (the rest). */
  run: number;
  wait: number;
  sleep: number;
}

export function schedulingMark(pid: number | undefined, tid = pid): SchedulingMark {
  const cpu = readFileSync('/proc/stat', 'utf8').slice(0, 200).split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  let run = 0;
  let wait = 0;
  try {
    if (pid !== undefined) [run, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ').map((x) => Number(x) / 1000) as [number, number];
  } catch {
    // the process ended
  }
  return { idle: cpu[3]! + (cpu[4] ?? 0), total: cpu.reduce((a, b) => a + b, 0), run, wait, at: performance.now() };
}

export function schedulingSince(before: SchedulingMark, after: SchedulingMark, cpus: number): SchedulingShares {
  const wall = (after.at - before.at) * 1000;
  const run = (after.run - before.run) / wall;
  const wait = (after.wait - before.wait) / wall;
  const ticks = after.total - before.total;
  return { idleCores: ticks > 0 ? (cpus * (after.idle - before.idle)) / ticks : 0, run, wait, sleep: Math.max(0, 1 - run - wait) };
}
