// The one piece of the vscode API that the unit-tested extension modules use outside VS Code: an
// event emitter with VS Code's semantics. esbuild maps `vscode` here for test/unit only
// (esbuild.js); the integration and UI suites run the real API.
export class EventEmitter<T> {
  private listeners: ((e: T) => void)[] = [];

  readonly event = (listener: (e: T) => void): { dispose(): void } => {
    this.listeners.push(listener);
    return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== listener)) };
  };

  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }

  dispose(): void {
    this.listeners = [];
  }
}
