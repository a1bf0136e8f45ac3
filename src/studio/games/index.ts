// The studio's games: pure functions from a fair stream and a bet to an outcome, their
// published RTP and max win, the pacing rules, and playRound / verifyRound over all of them.
export * from './common.ts';
export * from './dice.ts';
export * from './pacing.ts';
export * from './rational.ts';
export * from './roulette.ts';
export * from './round.ts';
export * from './slot.ts';
