// The pieces of the vscode API that the unit-tested extension modules use outside VS Code: an
// event emitter with VS Code's semantics, and settings to read. esbuild maps `vscode` here for
// test/unit only (esbuild.js); the integration and UI suites run the real API.
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

/** What workspace.getConfiguration(section).get(key) returns, by `section.key`: tests set it. */
export const settings = new Map<string, unknown>();

export const workspace = {
  getConfiguration: (section: string): { get<T>(key: string): T | undefined } => ({
    get: <T>(key: string): T | undefined => settings.get(`${section}.${key}`) as T | undefined,
  }),
};
