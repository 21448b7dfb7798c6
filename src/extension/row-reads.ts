// Full rows for the cursor token, read once however many views ask. Under screening the overlay's
// recolouring and the passing-key outlines want the same row after the same pause: the second
// request joins the first, and the worker's read is aborted only when every asker has given up.
import { tokenAt } from '../core/reading/analysis';
import type { Inspection, QueryRows } from '../core/inspection-types';

/** The full attention row ([layer][head][key]) of the token at an offset; undefined when the worker no longer holds the keys. */
export type RowReader = (insp: Inspection, offset: number, signal: AbortSignal) => Promise<QueryRows | undefined>;

interface Read {
  row: Promise<QueryRows | undefined>;
  abort: AbortController;
  askers: number;
}

function aborted(): Error {
  return new DOMException('the row is no longer wanted', 'AbortError');
}

/** A RowReader that joins a request for a token whose row is already being read for the same inspection. */
export function joinedRowReads(read: RowReader): RowReader {
  const reads = new WeakMap<Inspection, Map<number, Read>>();
  return (insp, offset, signal) => {
    if (signal.aborted) return Promise.reject(aborted());
    let byToken = reads.get(insp);
    if (!byToken) reads.set(insp, (byToken = new Map()));
    const tokens = byToken;
    const token = tokenAt(insp, offset);
    let current = tokens.get(token);
    if (!current) {
      const abort = new AbortController();
      const started: Read = { row: read(insp, offset, abort.signal), abort, askers: 0 };
      const forget = (): void => {
        if (tokens.get(token) === started) tokens.delete(token);
      };
      started.row.then(forget, forget);
      tokens.set(token, started);
      current = started;
    }
    const shared = current;
    shared.askers++;
    return new Promise((resolve, reject) => {
      const leave = (): void => {
        signal.removeEventListener('abort', giveUp);
        shared.askers--;
      };
      const giveUp = (): void => {
        leave();
        if (shared.askers === 0) {
          if (tokens.get(token) === shared) tokens.delete(token);
          shared.abort.abort();
        }
        reject(aborted());
      };
      signal.addEventListener('abort', giveUp, { once: true });
      shared.row.then(
        (row) => {
          leave();
          resolve(row);
        },
        (err: unknown) => {
          leave();
          reject(err);
        },
      );
    });
  };
}
