// The converter's worker thread: a conversion reads and writes hundreds of MB with synchronous
// file calls, so the extension host runs it here and stays responsive (convert-in-worker.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { ConvertError } from './convert-error';
import { convertHfFolder } from './convert-model';
import type { ConvertJob, ConvertMessage } from './convert-in-worker';

const port = parentPort!;
const job = workerData as ConvertJob;
const abort = new AbortController();
// Cancel arrives between graphs, when the converter yields.
port.on('message', (m: 'cancel') => m === 'cancel' && abort.abort());
const post = (m: ConvertMessage): void => port.postMessage(m);

convertHfFolder(job.hfDir, job.outDir, { ...job.options, signal: abort.signal, onProgress: (progress) => post({ kind: 'progress', progress }) })
  .then((result) => post({ kind: 'done', result }))
  .catch((err: unknown) => post({ kind: 'error', message: err instanceof Error ? err.message : String(err), convertError: err instanceof ConvertError }));
