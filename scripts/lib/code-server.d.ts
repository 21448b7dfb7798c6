// Types for code-server.js, for the TypeScript UI tests that import it.
import type { ChildProcess } from 'node:child_process';
import type { Browser } from 'playwright-core';

export const ROOT: string;
export const CODE_SERVER_BIN: string;
export const CHROMIUM: string;
export const CHROMIUM_ARGS: string[];
export const BASE_SETTINGS: Record<string, unknown>;

export interface StartOptions {
  folder?: string;
  userDataDir?: string;
  extensionsDir?: string;
  settings?: Record<string, unknown>;
  machineSettings?: Record<string, unknown>;
  port?: number;
  quiet?: boolean;
  env?: Record<string, string>;
}

export interface CodeServer {
  base: string;
  port: number;
  userDataDir: string;
  extensionsDir: string;
  process: ChildProcess;
  stop(): Promise<void>;
  log(): string;
}

export function codeServerInstalled(): boolean;
export function freePort(): Promise<number>;
export function startCodeServer(options?: StartOptions): Promise<CodeServer>;
export function workbenchUrl(
  base: string,
  options: { folder: string; extensionDevelopmentPath?: string; extensionTestsPath?: string },
): string;
export function launchChromium(options?: { headless?: boolean }): Promise<Browser>;
export function linkExtension(extensionsDir: string, extensionPath?: string): { id: string; link: string };
export function writeSettings(
  userDataDir: string,
  settings: Record<string, unknown>,
  machineSettings?: Record<string, unknown>,
): void;
export function killTree(child: ChildProcess, signal?: NodeJS.Signals): void;
