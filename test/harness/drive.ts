import type { DumpState, DumpStatus } from "../../src/index.js";
import type { HostObject } from "./host-client.js";

/** States a job never leaves. */
export const TERMINAL: ReadonlySet<DumpState> = new Set(["completed", "failed", "aborted"]);

/** Options of {@link runToCompletion}. */
export interface RunOptions {
  /** Hard cap on ticks; exceeding it fails. Default 20,000. */
  maxTicks?: number;
  /**
   * Fails when the job's progress counters and state have not moved for this many ticks.
   * Default 500.
   */
  stallTicks?: number;
  /** Called after every tick that left the job unfinished, e.g. to evict the engine. */
  afterTick?: (tick: number) => Promise<unknown>;
}

/** What {@link runToCompletion} saw. */
export interface RunResult {
  status: DumpStatus;
  ticks: number;
}

/**
 * Manual mode: calls `/tick` until job `id` is in a terminal state (completed, failed or
 * aborted), at most `maxTicks` times. Throws when the cap is reached, when the job made no
 * progress for `stallTicks` ticks, or when the engine reports no more work while the job is not
 * terminal; the job is then aborted so that it does not hold up later jobs of the object.
 */
export async function runToCompletion(obj: HostObject, id: string, opts: RunOptions = {}): Promise<RunResult> {
  try {
    return await tickUntilDone(obj, id, opts);
  } catch (e) {
    // Leave no active job behind: it would keep later jobs of the same object queued.
    await obj.abort(id).catch(() => undefined);
    throw e;
  }
}

async function tickUntilDone(obj: HostObject, id: string, opts: RunOptions): Promise<RunResult> {
  const maxTicks = opts.maxTicks ?? 20_000;
  const stallTicks = opts.stallTicks ?? 500;
  let lastProgress = "";
  for (let ticks = 1; ticks <= maxTicks; ticks++) {
    if (ticks % stallTicks === 1) {
      const st = await mustStatus(obj, id);
      const progress = JSON.stringify([st.state, st.progress, st.outputs]);
      if (progress === lastProgress) throw new Error(`job ${id} made no progress in ${stallTicks} ticks (tick ${ticks}): ${JSON.stringify(st)}`);
      lastProgress = progress;
    }
    const r = await obj.tick();
    if (r.jobId === id && r.state && TERMINAL.has(r.state)) return { status: await mustStatus(obj, id), ticks };
    if (r.jobId === null || !r.more) {
      const st = await mustStatus(obj, id);
      if (TERMINAL.has(st.state)) return { status: st, ticks };
      if (!r.more) throw new Error(`engine has no more work after ${ticks} ticks but job ${id} is ${st.state}: ${JSON.stringify(r)}`);
    }
    if (opts.afterTick) await opts.afterTick(ticks);
  }
  const st = await obj.status(id);
  throw new Error(`job ${id} not finished after ${maxTicks} ticks: ${JSON.stringify(st)}`);
}

/** Options of {@link waitForAlarms}. */
export interface WaitOptions {
  /** Wall-clock cap. Default 120 s. */
  timeoutMs?: number;
  /** Cap on alarm runs counted by the host. Default 5,000. */
  maxAlarms?: number;
  /** Interval between polls. Default 25 ms. */
  pollMs?: number;
}

/**
 * Auto mode: polls the job's status until it is terminal while real alarms drive the engine.
 * Bounded by wall time and by the number of alarm runs; fails early when an alarm threw.
 */
export async function waitForAlarms(obj: HostObject, id: string, opts: WaitOptions = {}): Promise<{ status: DumpStatus; alarmRuns: number }> {
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  const maxAlarms = opts.maxAlarms ?? 5_000;
  for (;;) {
    const st = await mustStatus(obj, id);
    const info = await obj.alarmInfo();
    if (TERMINAL.has(st.state)) return { status: st, alarmRuns: info.alarmRuns };
    if (info.alarmErrors.length) throw new Error(`alarm handler threw: ${info.alarmErrors.join("; ")}; status ${JSON.stringify(st)}`);
    if (info.alarmRuns > maxAlarms) throw new Error(`job ${id} not finished after ${info.alarmRuns} alarms: ${JSON.stringify(st)}`);
    if (Date.now() > deadline) throw new Error(`job ${id} not finished in time (alarm ${info.alarm}, ${info.alarmRuns} runs): ${JSON.stringify(st)}`);
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 25));
  }
}

async function mustStatus(obj: HostObject, id: string): Promise<DumpStatus> {
  const st = await obj.status(id);
  if (!st) throw new Error(`status(${id}) returned null`);
  return st;
}
