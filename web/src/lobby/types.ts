// The player API's answers (contract §2 and pam's extensions), as the lobby reads them.

export type PlayerStatus = 'active' | 'timed_out' | 'self_excluded' | 'locked' | 'suspended' | 'closed';
export type KycStatus = 'unverified' | 'pending' | 'verified' | 'rejected';

export interface Me {
  playerId: string;
  email: string;
  status: PlayerStatus;
  kycStatus: KycStatus;
  country: string;
  currency: string;
  firstName: string;
  lastName: string;
  restrictedUntil: string | null;
  realityCheckMinutes: number | null;
}

export interface Wallet {
  currency: string;
  cash: string;
  bonus: string;
  pendingWithdrawal: string;
  withdrawable: string;
}

export interface SessionInfo {
  sessionId: string;
  startedAt: string;
  elapsedSeconds: number;
  realityCheckMinutes: number | null;
  nextRealityCheckAt: string | null;
  currency: string;
  staked: string;
  won: string;
  netPosition: string;
}

export interface Game {
  gameId: string;
  providerId: string;
  name: string;
  type: string;
  rtp: number;
  enabled: boolean;
}

export type { Round, RoundDetail, Transaction } from '../shared/history.tsx';

export interface Payment {
  id: string;
  kind: 'deposit' | 'withdrawal';
  amount: string;
  currency: string;
  status: string;
  createdAt: string;
}

export interface Limit {
  kind: 'deposit' | 'loss' | 'wager';
  period: 'day' | 'week' | 'month';
  amount: string | null;
  pendingAmount?: string | null;
  effectiveAt?: string;
}

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  expiresInSeconds: number;
}
