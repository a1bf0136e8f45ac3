// Starts a platform entry point as a child process (as an operator would) and waits until it
// prints the URL it listens on. Output is kept so a failing test can show it.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createScratchDatabase, databaseUrl, natsUrl } from './backend.ts';

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunningProcess {
  child: ChildProcess;
  url: string;
  exited: Promise<Exit>;
  output(): string;
}

export interface ProcessOptions {
  script: string;
  args?: string[];
  env?: Record<string, string>;
  startTimeoutMs?: number;
}

/** Runs a script to completion; resolves with its exit and its output. */
export function runToExit(
  options: ProcessOptions & { timeoutMs?: number },
): Promise<Exit & { stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, options.script), ...(options.args ?? [])], {
      cwd: repoRoot,
      env: { ...cleanEnv(), ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${options.script} did not exit in time\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The environment without the backend variables; callers add back what the test wants. */
function cleanEnv(): NodeJS.ProcessEnv {
  const { DATABASE_URL: _d, NATS_URL: _n, PORT: _p, CROUPIER_DATA_DIR: _c, ...rest } = process.env;
  return { ...rest, LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'warn' };
}

export async function startProcess(options: ProcessOptions): Promise<RunningProcess> {
  const child = spawn(process.execPath, [path.join(repoRoot, options.script), ...(options.args ?? [])], {
    cwd: repoRoot,
    env: { ...cleanEnv(), PORT: '0', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<Exit>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${options.script} did not start in time:\n${output}`));
    }, options.startTimeoutMs ?? 60_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    void exited.then((exit) => {
      clearTimeout(timer);
      reject(
        new Error(`${options.script} exited (${exit.code ?? exit.signal}) before listening:\n${output}`),
      );
    });
  });
  return { child, url, exited, output: () => output };
}

export interface BackendEnv {
  env: Record<string, string>;
  /** The scratch database URL on PostgreSQL, the data folder on PGlite. */
  location: string;
  cleanup(): Promise<void>;
}

/** Environment for a child platform process on this run's backend, with its own empty database. */
export async function backendEnv(): Promise<BackendEnv> {
  const nats: Record<string, string> = natsUrl ? { NATS_URL: natsUrl } : {};
  if (databaseUrl) {
    const scratch = await createScratchDatabase();
    return {
      env: { DATABASE_URL: scratch.url, ...nats },
      location: scratch.url,
      cleanup: () => scratch.drop(),
    };
  }
  const folder = mkdtempSync(path.join(tmpdir(), 'croupier-e2e-'));
  return {
    env: { CROUPIER_DATA_DIR: folder, ...nats },
    location: folder,
    cleanup: async () => rmSync(folder, { recursive: true, force: true }),
  };
}
