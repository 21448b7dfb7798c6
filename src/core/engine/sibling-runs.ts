// Other modes' runs of a shown inspection's window, in the background: the shown mode's partner
// (what the hover and Compare put beside it) as soon as the inspection lands, and any mode a hover,
// Compare or the Fading tab asks for. Idle priority: a sibling run starts only while no foreground
// run is under way, and yields (is aborted and queued again) when one starts or when a caller asks
// the model worker for something quick; an edit cancels a document's sibling runs. Counted in the
// memory plan: a sibling runs while the worker holds the shown run's keys, so it runs only when its
// plan and that kept run fit the budget; it keeps its own keys (and so resumes incrementally after
// an edit, like the shown run) when a second kept run fits too.
import type { Mode } from '../../shared/vocabulary';
import type { Inspection } from '../inspection-types';
import { isAbortError } from './abort';
import type { DocumentSession } from './document-session';

export type SiblingState = 'queued' | 'running' | 'done' | 'skipped' | 'failed';

export interface SiblingStatus {
  mode: Mode;
  state: SiblingState;
  /** Fraction done, 0..1, of the running run (0 while queued). */
  done: number;
  /** Why a skipped or failed run did not finish, in words. */
  reason?: string;
}

interface Job {
  key: string;
  session: DocumentSession;
  shown: Inspection;
  mode: Mode;
  state: SiblingState;
  done: number;
  reason?: string;
  /** The worker keeps its keys: its next run after an edit resumes from them. */
  keep: boolean;
  abort?: AbortController;
  /** Called once when the job settles (done, skipped, failed or cancelled). */
  settled: Set<() => void>;
}

/** Whether a sibling run fits: its own plan on top of what the worker keeps of the shown run. */
export function siblingFits(planBytes: number, shownKeptBytes: number, budgetBytes: number): boolean {
  return planBytes + shownKeptBytes <= budgetBytes;
}

export class SiblingRuns {
  /** By key (a document), then by mode. */
  private readonly jobs = new Map<string, Map<Mode, Job>>();
  private running: Job | undefined;
  private holdTimer: NodeJS.Timeout | undefined;
  private disposed = false;

  constructor(
    /** True while a run the user waits for is under way: siblings wait for it. */
    private readonly foregroundBusy: () => boolean,
    private readonly log: (line: string) => void = () => undefined,
    /** Called when a run is planned, starts, yields, settles or is cancelled. */
    private readonly onChange: () => void = () => undefined,
  ) {}

  /**
   * Plans sibling runs of a document's shown inspection in these modes (those not cached yet and
   * not already planned for it); a newly shown inspection replaces the earlier one's runs. With
   * `keepKeys` (the shown mode's partner), the worker keeps their keys where the budget fits a
   * second kept run.
   */
  schedule(key: string, session: DocumentSession, shown: Inspection, modes: readonly Mode[], keepKeys = false): void {
    const runner = session.runner;
    let byMode = this.jobs.get(key);
    if (byMode && [...byMode.values()].some((j) => j.shown !== shown)) {
      this.cancel(key);
      byMode = undefined;
    }
    const underWay = (m: Mode): boolean => ['queued', 'running'].includes(byMode?.get(m)?.state ?? '');
    const wanted = modes.filter((m) => m !== shown.mode && runner.modes.includes(m) && !session.cachedSibling(shown, m) && !underWay(m));
    if (wanted.length === 0) return;
    byMode ??= new Map<Mode, Job>();
    const T = shown.tokens.length;
    const chars = shown.range.end - shown.range.start;
    const kept = runner.keptBytes(T);
    const budget = runner.memoryBudgetBytes;
    const keep = keepKeys && siblingFits(runner.planFor(T, chars, true).peakBytes + kept, kept, budget);
    const fits = keep || siblingFits(runner.planFor(T, chars, false).peakBytes, kept, budget);
    for (const mode of wanted) {
      const job: Job = { key, session, shown, mode, state: fits ? 'queued' : 'skipped', done: 0, keep, settled: new Set() };
      if (!fits) job.reason = `${T.toLocaleString('en-US')} tokens in two modes at once exceed the memory budget`;
      byMode.set(mode, job);
    }
    this.jobs.set(key, byMode);
    this.onChange();
    this.pump();
  }

  /** The sibling run of this shown inspection in this mode, if one was planned. */
  status(key: string, shown: Inspection, mode: Mode): SiblingStatus | undefined {
    const job = this.jobs.get(key)?.get(mode);
    if (!job || job.shown !== shown) return undefined;
    return { mode, state: job.state, done: job.done, reason: job.reason };
  }

  /** Resolves when every planned sibling of these modes has settled, or after `ms`, or when the signal aborts. */
  wait(key: string, shown: Inspection, modes: readonly Mode[], ms: number, signal?: AbortSignal): Promise<void> {
    const pending = modes
      .map((m) => this.jobs.get(key)?.get(m))
      .filter((j): j is Job => j !== undefined && j.shown === shown && (j.state === 'queued' || j.state === 'running'));
    if (pending.length === 0 || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      let left = pending.length;
      const finish = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', finish);
        for (const j of pending) j.settled.delete(onSettled);
        resolve();
      };
      const onSettled = (): void => {
        if (--left === 0) finish();
      };
      const timer = setTimeout(finish, ms);
      signal?.addEventListener('abort', finish, { once: true });
      for (const j of pending) j.settled.add(onSettled);
    });
  }

  /** An edit or Clear: the document's sibling runs stop (a running one within one attention block). */
  cancel(key: string): void {
    const byMode = this.jobs.get(key);
    if (!byMode) return;
    this.jobs.delete(key);
    for (const job of byMode.values()) {
      job.abort?.abort();
      this.settle(job);
    }
    if (this.running?.key === key) this.running = undefined;
    this.onChange();
    this.pump();
  }

  /**
   * Yields the model worker for `ms` (a quick request such as a Follow Cursor row is coming): the
   * running sibling is aborted and queued again, and none starts before the time is up.
   */
  hold(ms: number): void {
    this.pause();
    clearTimeout(this.holdTimer);
    this.holdTimer = setTimeout(() => {
      this.holdTimer = undefined;
      this.pump();
    }, ms);
  }

  /** A foreground run starts: the running sibling yields (queued again, from the start). */
  pause(): void {
    const job = this.running;
    if (!job) return;
    this.running = undefined;
    job.abort?.abort();
    job.abort = undefined;
    job.state = 'queued';
    job.done = 0;
    this.onChange();
  }

  /** Starts the next queued sibling when the worker is free of foreground work. */
  pump(): void {
    if (this.disposed || this.running || this.holdTimer || this.foregroundBusy()) return;
    const job = this.next();
    if (!job) return;
    this.running = job;
    job.state = 'running';
    job.done = 0;
    this.onChange();
    const abort = new AbortController();
    job.abort = abort;
    job.session
      .sibling(job.shown, job.mode, abort.signal, (done) => {
        if (!abort.signal.aborted) job.done = done;
      }, job.keep)
      .then(
        (insp) => {
          if (abort.signal.aborted) return;
          job.state = insp ? 'done' : 'failed';
          if (!insp) job.reason = 'the shown inspection left the cache';
          job.done = 1;
          this.settle(job);
        },
        (err: unknown) => {
          if (abort.signal.aborted) return; // paused or cancelled: whoever aborted it decided
          if (isAbortError(err)) {
            // It joined a run that another waiter had just aborted: queue it again.
            job.state = 'queued';
            job.done = 0;
            return;
          }
          job.state = 'failed';
          job.reason = err instanceof Error ? err.message : String(err);
          this.log(`background inspection (${job.mode}) failed: ${job.reason}`);
          this.settle(job);
        },
      )
      .finally(() => {
        if (this.running === job) this.running = undefined;
        this.pump();
      });
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.holdTimer);
    for (const key of [...this.jobs.keys()]) this.cancel(key);
  }

  private next(): Job | undefined {
    for (const byMode of this.jobs.values()) {
      for (const job of byMode.values()) if (job.state === 'queued') return job;
    }
    return undefined;
  }

  private settle(job: Job): void {
    for (const f of [...job.settled]) f();
    job.settled.clear();
    this.onChange();
  }
}
