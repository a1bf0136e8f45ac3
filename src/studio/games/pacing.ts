// Speed-of-play rules the game server must enforce between two rounds of one player
// (docs/studio-games.md §5). The UK Gambling Commission's RTS 14D sets at least 2.5 s from the
// start of one slot game cycle to the start of the next, and RTS 14G (in force since
// 17 January 2025) at least 5 s for other casino games (research regulatory.md §2.9 and the
// consolidated checklist, row 23). Elsewhere the studio imposes no minimum.
//
// The studio never offers autoplay, turbo / quick spin or slam stop in any jurisdiction (UK
// RTS 8 and RTS 14E forbid them there; offering them nowhere keeps one product): each round
// is started by one explicit player action, and the result is never shown sooner on demand.

export type GameType = 'slot' | 'dice' | 'roulette';
export type Jurisdiction = 'UK' | 'DEFAULT';

export const gameTypes: readonly GameType[] = Object.freeze(['slot', 'dice', 'roulette']);
export const jurisdictions: readonly Jurisdiction[] = Object.freeze(['UK', 'DEFAULT']);

const intervalsMs: Readonly<Record<Jurisdiction, Readonly<Record<GameType, number>>>> = Object.freeze({
  UK: Object.freeze({ slot: 2_500, dice: 5_000, roulette: 5_000 }),
  DEFAULT: Object.freeze({ slot: 0, dice: 0, roulette: 0 }),
});

/**
 * Minimum milliseconds from the start of one round to the start of the player's next round of
 * that game type. Throws on an unknown game type or jurisdiction rather than returning 0, so a
 * misspelt jurisdiction cannot silently lift a limit.
 */
export function minRoundIntervalMs(gameType: GameType, jurisdiction: Jurisdiction): number {
  const table: Readonly<Record<GameType, number>> | undefined = Object.hasOwn(intervalsMs, jurisdiction)
    ? intervalsMs[jurisdiction]
    : undefined;
  if (table === undefined) throw new RangeError(`unknown jurisdiction '${String(jurisdiction)}'`);
  if (!Object.hasOwn(table, gameType)) throw new RangeError(`unknown game type '${String(gameType)}'`);
  return table[gameType];
}

/** Features the studio never offers, in any jurisdiction. */
export const studioPlayFeatures = Object.freeze({
  autoplay: false,
  turbo: false,
  quickSpin: false,
  slamStop: false,
} as const);
