// What every lobby page can read: the player, the wallet, the login session's figures, the state
// of the live signals, and counters that pages watch to re-read their own lists.
import { createContext, useContext } from 'react';
import type { LiveState } from './live.ts';
import type { PlayerSession } from './session.ts';
import type { Me, SessionInfo, Wallet } from './types.ts';
import type { Tone } from '../shared/ui.tsx';

export type Part = 'me' | 'wallet' | 'info' | 'payments' | 'rounds' | 'limits';

export interface Notice {
  readonly tone: Tone;
  readonly text: string;
}

export interface Lobby {
  readonly session: PlayerSession;
  readonly me: Me | undefined;
  readonly wallet: Wallet | undefined;
  readonly info: SessionInfo | undefined;
  readonly live: LiveState;
  /** Bumped when a change signal or an action touches that list. */
  readonly versions: Readonly<Record<'payments' | 'rounds' | 'limits', number>>;
  /** Server time minus this browser's clock, from the session figures. */
  readonly clockOffsetMs: number;
  readonly refresh: (parts?: readonly Part[]) => void;
  readonly notify: (notice: Notice | undefined) => void;
  /** The session ended on the server (self-exclusion): back to the log-in page with this message. */
  readonly ended: (message: string) => void;
}

export const LobbyContext = createContext<Lobby | null>(null);

export function useLobby(): Lobby {
  const lobby = useContext(LobbyContext);
  if (!lobby) throw new Error('useLobby outside the lobby');
  return lobby;
}

export interface PlayCheck {
  readonly ok: boolean;
  readonly reason: string;
}

function until(iso: string | null): string {
  return iso ? ` until ${new Date(iso).toLocaleString()}` : '';
}

/** Whether the player may deposit and play now, and why not (the same rules the server applies). */
export function playCheck(me: Me | undefined): PlayCheck {
  if (!me) return { ok: false, reason: 'Loading your account…' };
  switch (me.status) {
    case 'active':
      break;
    case 'timed_out':
      return {
        ok: false,
        reason: `You are taking a time-out${until(me.restrictedUntil)}. Deposits and play reopen then; you can still withdraw.`,
      };
    case 'self_excluded':
      return {
        ok: false,
        reason: `You are self-excluded${until(me.restrictedUntil)}. Deposits and play are closed; you can still see your history and withdraw.`,
      };
    case 'locked':
    case 'suspended':
      return {
        ok: false,
        reason: `Your account is ${me.status}. Deposits and play are closed; please contact support. You can still withdraw.`,
      };
    case 'closed':
      return { ok: false, reason: 'Your account is closed.' };
  }
  switch (me.kycStatus) {
    case 'verified':
      return { ok: true, reason: '' };
    case 'rejected':
      return {
        ok: false,
        reason: 'We could not verify your identity, so deposits and play are closed. Please contact support.',
      };
    case 'unverified':
    case 'pending':
      return {
        ok: false,
        reason:
          'We are verifying your identity. Deposits and play open as soon as it is done (usually within moments).',
      };
  }
}
