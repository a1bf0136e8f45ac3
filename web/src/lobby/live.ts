// Live change signals (GET /api/v1/events, server-sent events) read with fetch, so the access
// token travels in a header rather than in the URL. A signal only says that something changed;
// the lobby then re-reads the wallet, the session and whatever else through the ordinary API.
import type { PlayerSession } from './session.ts';

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'paused' | 'off';

export interface LiveHandlers {
  onChange(subject: string): void;
  onState(state: LiveState): void;
}

/** After this long without the player doing anything, an expired stream is not renewed. */
const IDLE_MS = 10 * 60_000;
const RETRY_DELAYS_MS = [1000, 2000, 5000, 10_000, 30_000];

let lastActivity = Date.now();
const activityWaiters = new Set<() => void>();
function noteActivity(): void {
  lastActivity = Date.now();
  for (const wake of [...activityWaiters]) wake();
  activityWaiters.clear();
}
for (const type of ['pointerdown', 'keydown'] as const) {
  window.addEventListener(type, noteActivity, { passive: true, capture: true });
}
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') noteActivity();
});

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function nextActivity(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    activityWaiters.add(resolve);
    signal.addEventListener('abort', () => resolve());
  });
}

interface ServerEvent {
  event: string;
  data: string;
}

function parseBlock(block: string): ServerEvent | undefined {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':') || line.length === 0) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return data.length > 0 || event !== 'message' ? { event, data: data.join('\n') } : undefined;
}

/** Reads one stream until it ends; returns the last control event ('expired', 'closing', …). */
async function readStream(
  response: Response,
  handlers: LiveHandlers,
  signal: AbortSignal,
): Promise<string | undefined> {
  const body = response.body;
  if (!body) return undefined;
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  const cancel = () => void reader.cancel().catch(() => undefined);
  signal.addEventListener('abort', cancel);
  let buffer = '';
  let control: string | undefined;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value.replaceAll('\r\n', '\n');
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const parsed = parseBlock(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
        if (!parsed) continue;
        if (parsed.event === 'change') {
          let subject = 'unknown';
          try {
            const value = (JSON.parse(parsed.data) as { subject?: unknown }).subject;
            if (typeof value === 'string') subject = value;
          } catch {
            // A signal without a readable subject still means "re-read".
          }
          noteActivity();
          handlers.onChange(subject);
        } else if (parsed.event === 'ready') {
          handlers.onState('live');
        } else {
          control = parsed.event;
        }
      }
    }
  } catch {
    // The connection broke: the caller reconnects.
  } finally {
    signal.removeEventListener('abort', cancel);
  }
  return control;
}

/** Keeps a stream open while logged in; returns a function that stops it. */
export function startLive(session: PlayerSession, handlers: LiveHandlers): () => void {
  const controller = new AbortController();
  const { signal } = controller;
  void (async () => {
    let failures = 0;
    let first = true;
    while (!signal.aborted) {
      const token = await session.token();
      if (!token || signal.aborted) {
        handlers.onState('off');
        return;
      }
      handlers.onState(first ? 'connecting' : 'reconnecting');
      let control: string | undefined;
      try {
        const response = await fetch('/api/v1/events', {
          headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
          cache: 'no-store',
          credentials: 'omit',
          signal,
        });
        if (response.ok) {
          failures = 0;
          // Anything may have changed while no stream was open.
          if (!first) handlers.onChange('resync');
          first = false;
          control = await readStream(response, handlers, signal);
        } else {
          await response.body?.cancel();
          failures += 1;
        }
      } catch {
        if (signal.aborted) return;
        failures += 1;
      }
      if (signal.aborted) return;
      if (control === 'replaced') {
        handlers.onState('paused');
        await nextActivity(signal);
        continue;
      }
      if (control === 'expired' && Date.now() - lastActivity > IDLE_MS) {
        // Renewing would need a token refresh, which counts as activity: wait for the player.
        handlers.onState('paused');
        await nextActivity(signal);
        continue;
      }
      handlers.onState('reconnecting');
      const delay =
        failures === 0 ? 250 : (RETRY_DELAYS_MS[Math.min(failures, RETRY_DELAYS_MS.length) - 1] ?? 30_000);
      await sleep(delay, signal);
    }
  })();
  return () => controller.abort();
}
