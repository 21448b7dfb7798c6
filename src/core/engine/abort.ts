// Cancellation's one error: thrown by the layered run between graph calls, by the worker's owner
// and by a session's waiter, and recognised wherever a run may end by it (across the worker
// thread too, where only the name survives).

export function abortError(): Error {
  const err = new Error('inspection cancelled');
  err.name = 'AbortError';
  return err;
}

export function isAbortError(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}
