// Full-row reads for the cursor token: the overlay and the passing-key outlines ask for the same
// row after the same pause, and the worker reads it once; the read is aborted only when every asker
// has given up, and an asker that gives up is answered at once.
import * as assert from 'node:assert/strict';
import type { QueryRows } from '../../src/core/inspection-types';
import { joinedRowReads } from '../../src/extension/row-reads';
import { synthetic } from '../common/synthetic-inspection';

/** A reader whose reads are counted and settled by hand. */
function manualReader(): {
  reads: { offset: number; signal: AbortSignal; settle: (row: QueryRows | undefined) => void }[];
  read: (insp: unknown, offset: number, signal: AbortSignal) => Promise<QueryRows | undefined>;
} {
  const reads: { offset: number; signal: AbortSignal; settle: (row: QueryRows | undefined) => void }[] = [];
  return {
    reads,
    read: (_insp, offset, signal) => new Promise((resolve) => reads.push({ offset, signal, settle: resolve })),
  };
}

const row = (token: number): QueryRows => ({ offset: 2 * token, token, rows: Float32Array.of(token) });

function inspection() {
  const insp = synthetic(1, 1, 6, 3);
  insp.tokens = insp.tokens.map((_, t) => ({ text: `t${t}`, start: 2 * t, end: 2 * t + 2 }));
  return insp;
}

describe('joined full-row reads', () => {
  it('two askers of one token share one read and both get its row', async () => {
    const source = manualReader();
    const read = joinedRowReads(source.read);
    const insp = inspection();
    // Offsets 6 and 7 lie in the same token (t3).
    const a = read(insp, 6, new AbortController().signal);
    const b = read(insp, 7, new AbortController().signal);
    assert.equal(source.reads.length, 1);
    source.reads[0].settle(row(3));
    assert.deepEqual(await a, row(3));
    assert.deepEqual(await b, row(3));
  });

  it('another token, or another inspection, reads again; a finished read is not reused', async () => {
    const source = manualReader();
    const read = joinedRowReads(source.read);
    const insp = inspection();
    void read(insp, 6, new AbortController().signal);
    void read(insp, 8, new AbortController().signal);
    void read(inspection(), 6, new AbortController().signal);
    assert.equal(source.reads.length, 3);
    source.reads[0].settle(row(3));
    await new Promise((r) => setImmediate(r));
    void read(insp, 6, new AbortController().signal);
    assert.equal(source.reads.length, 4, 'a later cursor pause reads afresh (the worker may hold a newer run)');
  });

  it('one asker giving up leaves the read to the other; the last one aborts it', async () => {
    const source = manualReader();
    const read = joinedRowReads(source.read);
    const insp = inspection();
    const first = new AbortController();
    const second = new AbortController();
    const a = read(insp, 6, first.signal);
    const b = read(insp, 6, second.signal);
    first.abort();
    await assert.rejects(a, (err: Error) => err.name === 'AbortError');
    assert.equal(source.reads[0].signal.aborted, false, 'the other asker still wants the row');
    second.abort();
    await assert.rejects(b, (err: Error) => err.name === 'AbortError');
    assert.equal(source.reads[0].signal.aborted, true, 'nobody wants it: the worker read is aborted');
    // After the abort, a new asker starts a new read rather than joining the aborted one.
    void read(insp, 6, new AbortController().signal);
    assert.equal(source.reads.length, 2);
  });

  it('an asker already aborted is refused without a read', async () => {
    const source = manualReader();
    const read = joinedRowReads(source.read);
    const gone = new AbortController();
    gone.abort();
    await assert.rejects(read(inspection(), 6, gone.signal), (err: Error) => err.name === 'AbortError');
    assert.equal(source.reads.length, 0);
  });

  it('a failed read fails every asker', async () => {
    const read = joinedRowReads(() => Promise.reject(new Error('worker gone')));
    const insp = inspection();
    const a = read(insp, 6, new AbortController().signal);
    const b = read(insp, 7, new AbortController().signal);
    await assert.rejects(a, /worker gone/);
    await assert.rejects(b, /worker gone/);
  });
});
