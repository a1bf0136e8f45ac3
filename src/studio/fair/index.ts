// The studio's provably fair RNG: seeds, commitment and the HMAC stream games draw from.
// Verifying a whole round (recomputing a game outcome) lives with the games: games/round.ts.
export * from './seeds.ts';
export * from './stream.ts';
