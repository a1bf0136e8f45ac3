// A private nats-server with JetStream for tests that must stop and restart the broker (outage
// tests), which a shared server cannot allow. Tests skip when the binary is not installed.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const FALLBACK_BINARY = '/usr/sbin/nats-server';
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The nats-server binary on PATH or at /usr/sbin, or undefined when it is not installed. */
export function findNatsServer(): string | undefined {
  const candidates = (process.env['PATH'] ?? '')
    .split(path.delimiter)
    .filter((folder) => folder.length > 0)
    .map((folder) => path.join(folder, 'nats-server'));
  return [...candidates, FALLBACK_BINARY].find(executable);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface NatsServerHandle {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** SIGTERM, then waits for the process to exit (JetStream flushes its store on the way out). */
  stop(): Promise<void>;
  /** Starts again on the same port with the same store folder. */
  restart(): Promise<void>;
  /** Stops the server and deletes its store folder. */
  dispose(): Promise<void>;
}

class NatsServer implements NatsServerHandle {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  readonly #binary: string;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();

  constructor(binary: string, port: number, storeDir: string) {
    this.#binary = binary;
    this.port = port;
    this.storeDir = storeDir;
    this.url = `nats://127.0.0.1:${port}`;
  }

  async restart(): Promise<void> {
    if (this.#child) throw new Error('nats-server is already running');
    const args = ['-js', '-a', '127.0.0.1', '-p', String(this.port), '-sd', this.storeDir];
    const child = spawn(this.#binary, args, { stdio: 'ignore' });
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    void this.#exited.then(() => {
      if (this.#child === child) this.#child = undefined;
    });
    const deadlineMs = Date.now() + START_TIMEOUT_MS;
    while (!(await accepts(this.port))) {
      if (this.#child !== child) throw new Error(`nats-server exited at start (port ${this.port})`);
      if (Date.now() > deadlineMs) {
        throw new Error(`nats-server did not accept connections within ${START_TIMEOUT_MS} ms`);
      }
      await sleep(25);
    }
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    child.kill('SIGTERM');
    // The timer is cancelled once the process exits, so it cannot hold the test process open.
    const timer = new AbortController();
    const exited = await Promise.race([
      this.#exited.then(() => true),
      sleep(STOP_TIMEOUT_MS, false, { signal: timer.signal }).catch(() => false),
    ]);
    timer.abort();
    if (!exited) {
      child.kill('SIGKILL');
      await this.#exited;
    }
    this.#child = undefined;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}

/** Starts a private JetStream server on a free port, or returns undefined when nats-server is missing. */
export async function startNatsServer(): Promise<NatsServerHandle | undefined> {
  const binary = findNatsServer();
  if (!binary) return undefined;
  const storeDir = mkdtempSync(path.join(tmpdir(), 'croupier-nats-'));
  const server = new NatsServer(binary, await freePort(), storeDir);
  await server.restart();
  return server;
}
