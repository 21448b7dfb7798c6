// convertHfFolder in a worker thread (convert-worker.ts, built beside this bundle), with the same
// options, progress, cancel and errors: for callers whose event loop must stay free (the extension host).
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ConvertError } from './convert-error';
import type { ConvertOptions, ConvertProgress, ConvertResult } from './convert-model';

export interface ConvertJob {
  hfDir: string;
  outDir: string;
  options: Omit<ConvertOptions, 'signal' | 'onProgress'>;
}

export type ConvertMessage =
  | { kind: 'progress'; progress: ConvertProgress }
  | { kind: 'done'; result: ConvertResult }
  | { kind: 'error'; message: string; convertError: boolean };

export function convertInWorker(hfDir: string, outDir: string, options: ConvertOptions): Promise<ConvertResult> {
  const { signal, onProgress, ...rest } = options;
  const job: ConvertJob = { hfDir, outDir, options: rest };
  const worker = new Worker(path.join(__dirname, 'convert-worker.js'), { workerData: job });
  const cancel = (): void => worker.postMessage('cancel');
  if (signal?.aborted) cancel();
  signal?.addEventListener('abort', cancel);
  return new Promise<ConvertResult>((resolve, reject) => {
    worker.on('message', (m: ConvertMessage) => {
      if (m.kind === 'progress') onProgress?.(m.progress);
      else if (m.kind === 'done') resolve(m.result);
      else reject(m.convertError ? new ConvertError(m.message) : new Error(m.message));
    });
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new Error(`the converter's worker stopped (exit code ${code})`)));
  }).finally(() => {
    signal?.removeEventListener('abort', cancel);
    void worker.terminate();
  });
}
