// "Studio Fruits": a 5-reel, 3-row video slot with 10 fixed paylines, a wild, and a scatter that
// awards free spins (docs/studio-games.md §2). Everything that decides an outcome is an
// explicit table in this file (reel strips, paylines, paytable, feature rules) so a lab can
// review it (GLI-19 §3.2.1) and the tests can enumerate every reel-stop combination to prove
// the published RTP and max win exactly.
//
// Money: the stake is the total bet; the line bet is stake / 10, kept as an exact fraction.
// Every win is counted in whole "line-bet units" (a scatter paying 2× the total bet is 20
// units), the round's units are summed (free-spin units × 2), and the player is paid
// floor(stake × units / 10) once per round, so any positive stake is accepted and the only
// rounding is less than one minor unit per round, always in the house's favour by < 1 unit.
import type { RandomSource } from '../fair/stream.ts';
import type { BetCheck, OutcomeBase } from './common.ts';
import { accepted, refused, stakeProblem } from './common.ts';
import type { Rational } from './rational.ts';
import { floorTimes, formatDecimal, rational } from './rational.ts';

export const slotGameId = 'studio-fruits';
/** Bump on any change to the tables below: a changed RTP makes it a new game (GLI-19 §A.6.1). */
export const slotVersion = 1;

export type SlotSymbol = 'WILD' | 'SCATTER' | 'SEVEN' | 'BAR' | 'BELL' | 'PLUM' | 'ORANGE' | 'CHERRY';
export type LineSymbol = Exclude<SlotSymbol, 'SCATTER'>;

const W = 'WILD';
const S = 'SCATTER';
const X = 'SEVEN';
const B = 'BAR';
const L = 'BELL';
const P = 'PLUM';
const O = 'ORANGE';
const C = 'CHERRY';

export const slotReelCount = 5;
export const slotRowCount = 3;

/**
 * The reel strips, reel 1 first. A stop s shows strip[s], strip[s+1], strip[s+2] (wrapping) on
 * the top, middle and bottom rows. Each strip has one SCATTER, so a reel never shows two.
 */
export const slotReels: readonly (readonly SlotSymbol[])[] = Object.freeze([
  Object.freeze<SlotSymbol[]>([C, O, L, C, P, W, B, C, O, S, P, C, L, X, O, C, P, B, C, O, L, P, C, O]),
  Object.freeze<SlotSymbol[]>([C, P, O, L, C, B, P, W, O, C, S, L, P, C, X, O, B, C, L, O, P, W, C, O]),
  Object.freeze<SlotSymbol[]>([O, C, L, P, C, S, B, O, C, P, X, L, O, W, C, P, B, O, W, C, L, O, P, C]),
  Object.freeze<SlotSymbol[]>([C, P, O, B, L, C, S, O, P, X, C, O, L, P, W, C, B, O, W, L, C, P, O, C]),
  Object.freeze<SlotSymbol[]>([P, C, O, L, S, C, B, P, O, C, X, L, C, W, O, P, C, B, C, O, L, P, C, O]),
]);

/** The 10 fixed paylines: the row (0 top, 1 middle, 2 bottom) used on each reel. */
export const slotPaylines: readonly (readonly number[])[] = Object.freeze([
  Object.freeze([1, 1, 1, 1, 1]),
  Object.freeze([0, 0, 0, 0, 0]),
  Object.freeze([2, 2, 2, 2, 2]),
  Object.freeze([0, 1, 2, 1, 0]),
  Object.freeze([2, 1, 0, 1, 2]),
  Object.freeze([0, 0, 1, 2, 2]),
  Object.freeze([2, 2, 1, 0, 0]),
  Object.freeze([1, 0, 0, 0, 1]),
  Object.freeze([1, 2, 2, 2, 1]),
  Object.freeze([1, 2, 1, 0, 1]),
]);

export const slotLineCount = 10;

/**
 * Line pays in line-bet units for 3, 4 and 5 of a kind, left to right from reel 1 on
 * consecutive reels. WILD substitutes for every symbol except SCATTER and pays on its own.
 */
export const slotLinePays: Readonly<Record<LineSymbol, readonly [number, number, number]>> = Object.freeze({
  WILD: Object.freeze([50, 250, 1000] as const),
  SEVEN: Object.freeze([25, 100, 500] as const),
  BAR: Object.freeze([15, 50, 200] as const),
  BELL: Object.freeze([8, 30, 100] as const),
  PLUM: Object.freeze([4, 15, 60] as const),
  ORANGE: Object.freeze([4, 8, 40] as const),
  CHERRY: Object.freeze([2, 5, 20] as const),
});

/** SCATTER pays for 3, 4, 5 anywhere in the window, as multiples of the TOTAL bet. */
export const slotScatterPays: readonly [number, number, number] = Object.freeze([2, 10, 50] as const);

/** 3 or more SCATTERs on a base spin award this many free spins… */
export const slotFreeSpinsAwarded = 10;
/** …on which every win (line and scatter) is multiplied by this. */
export const slotFreeSpinMultiplier = 2;
/** Free spins do not retrigger: SCATTERs during free spins pay but award no more spins. */
export const slotFreeSpinsRetrigger = false;

/** Theoretical RTP on exact multipliers, base game and free spins; proven by enumeration in tests. */
export const slotRtp: Rational = rational(290_597_755n, 301_989_888n);
export const slotRtpPercent = '96.2276';
/**
 * Largest possible payout as a multiple of stake, proven by enumeration in tests: the best base
 * spin that triggers free spins pays 52×, the best single spin pays 125.8×, so 52 + 10 × 2 ×
 * 125.8 = 2 568× (a theoretical cap: its probability is far below 1 in 10^70).
 */
export const slotMaxWinMultiplier: Rational = rational(2568n);

export interface SlotBet {
  /** Total bet over the 10 lines, minor units. */
  readonly stake: bigint;
}

export interface SlotLineWin {
  /** 1-based payline number. */
  readonly line: number;
  readonly symbol: LineSymbol;
  /** 3, 4 or 5 symbols from reel 1. */
  readonly count: number;
  /** Line-bet units won (before any free-spin multiplier). */
  readonly units: number;
}

export interface SlotSpinResult {
  /** Top-row strip index of each reel. */
  readonly stops: readonly number[];
  /** window[row][reel], row 0 at the top. */
  readonly window: readonly (readonly SlotSymbol[])[];
  readonly lineWins: readonly SlotLineWin[];
  readonly scatterCount: number;
  /** Scatter pay in line-bet units (10 × the total-bet multiple). */
  readonly scatterUnits: number;
  /** Line and scatter units of this spin, before any free-spin multiplier. */
  readonly units: number;
  /** 3+ SCATTERs: free spins on a base spin (ignored on a free spin: no retrigger). */
  readonly scatterTrigger: boolean;
}

export interface SlotSpin extends SlotSpinResult {
  readonly kind: 'base' | 'free';
  /** 1 on the base spin, slotFreeSpinMultiplier on free spins. */
  readonly multiplier: number;
}

export interface SlotOutcome extends OutcomeBase {
  readonly game: 'slot';
  /** The base spin first, then the free spins in play order. */
  readonly spins: readonly SlotSpin[];
  readonly freeSpinsAwarded: number;
  /** Base units + multiplier × free-spin units: the round's win in line-bet units. */
  readonly totalUnits: number;
  /** Exact payout multiple of stake before flooring: totalUnits / 10. */
  readonly multiplier: Rational;
}

function linePay(symbol: LineSymbol, count: number): number {
  return count >= 3 ? slotLinePays[symbol][count - 3]! : 0;
}

/**
 * The win of one payline, or undefined when it pays nothing: the better-paying of the leading
 * run of WILDs (paid as WILD) and the run of the first non-WILD symbol with WILDs substituting.
 * A run starts on reel 1 and stops at the first symbol that is neither the run's symbol nor
 * WILD; a SCATTER ends every run. On equal pay the symbol run is reported.
 */
export function evaluateLine(
  symbols: readonly SlotSymbol[],
): { symbol: LineSymbol; count: number; units: number } | undefined {
  let wilds = 0;
  while (wilds < symbols.length && symbols[wilds] === W) wilds += 1;
  const wildUnits = linePay(W, wilds);
  const first = symbols[wilds];
  if (first !== undefined && first !== S) {
    let count = wilds;
    while (count < symbols.length && (symbols[count] === first || symbols[count] === W)) count += 1;
    const units = linePay(first, count);
    if (units > 0 && units >= wildUnits) return { symbol: first, count, units };
  }
  return wildUnits > 0 ? { symbol: W, count: wilds, units: wildUnits } : undefined;
}

/** Checks stops without drawing anything: one integer per reel within its strip. */
function assertStops(stops: readonly number[]): void {
  if (stops.length !== slotReelCount) throw new RangeError(`need ${slotReelCount} reel stops`);
  stops.forEach((stop, reel) => {
    if (!Number.isInteger(stop) || stop < 0 || stop >= slotReels[reel]!.length) {
      throw new RangeError(`stop ${stop} is off reel ${reel + 1}`);
    }
  });
}

/**
 * Everything one spin pays, from its reel stops alone. Pure and RNG-free: play uses it for
 * every spin and the RTP tests run it over every stop combination.
 */
export function evaluateSlotStops(stops: readonly number[]): SlotSpinResult {
  assertStops(stops);
  const window: SlotSymbol[][] = [];
  let scatterCount = 0;
  for (let row = 0; row < slotRowCount; row += 1) {
    const cells: SlotSymbol[] = [];
    for (let reel = 0; reel < slotReelCount; reel += 1) {
      const strip = slotReels[reel]!;
      const symbol = strip[(stops[reel]! + row) % strip.length]!;
      if (symbol === S) scatterCount += 1;
      cells.push(symbol);
    }
    window.push(cells);
  }
  const lineWins: SlotLineWin[] = [];
  let units = 0;
  const symbols: SlotSymbol[] = new Array<SlotSymbol>(slotReelCount);
  for (let line = 0; line < slotLineCount; line += 1) {
    const rows = slotPaylines[line]!;
    for (let reel = 0; reel < slotReelCount; reel += 1) symbols[reel] = window[rows[reel]!]![reel]!;
    const win = evaluateLine(symbols);
    if (win !== undefined) {
      lineWins.push({ line: line + 1, symbol: win.symbol, count: win.count, units: win.units });
      units += win.units;
    }
  }
  const scatterUnits =
    scatterCount >= 3 ? slotScatterPays[Math.min(scatterCount, 5) - 3]! * slotLineCount : 0;
  units += scatterUnits;
  return {
    stops: [...stops],
    window,
    lineWins,
    scatterCount,
    scatterUnits,
    units,
    scatterTrigger: scatterCount >= 3,
  };
}

export function checkSlotBet(bet: SlotBet): BetCheck {
  const problem = stakeProblem(bet.stake, slotMaxWinMultiplier);
  return problem === undefined ? accepted : refused(problem);
}

function spin(source: RandomSource, kind: 'base' | 'free'): SlotSpin {
  // One draw per reel, reel 1 first: the stop is uniform over the strip.
  const stops = slotReels.map((strip) => source.randomInt(strip.length));
  return { kind, multiplier: kind === 'base' ? 1 : slotFreeSpinMultiplier, ...evaluateSlotStops(stops) };
}

function describeRound(outcome: Omit<SlotOutcome, 'description'>): string {
  const base = outcome.spins[0]!;
  const parts = [
    base.lineWins.length === 0
      ? 'base spin: no line win'
      : `base spin: ${base.lineWins.map((w) => `line ${w.line}: ${w.count} ${w.symbol}`).join(', ')}`,
  ];
  if (base.scatterCount >= 3) {
    const free = outcome.spins.slice(1).reduce((sum, s) => sum + s.units, 0);
    parts.push(
      `${base.scatterCount} SCATTER → ${outcome.freeSpinsAwarded} free spins at ×${slotFreeSpinMultiplier} won ${free * slotFreeSpinMultiplier} line bets`,
    );
  }
  parts.push(
    outcome.totalUnits === 0 ? 'no win' : `total ${formatDecimal(outcome.multiplier, 1, 'floor')}× stake`,
  );
  return parts.join('; ');
}

/** Plays one round: the base spin and, if it awards them, all its free spins (one game cycle). */
export function playSlot(source: RandomSource, bet: SlotBet): SlotOutcome {
  const check = checkSlotBet(bet);
  if (!check.ok) throw new RangeError(check.reason);
  const base = spin(source, 'base');
  const spins: SlotSpin[] = [base];
  const freeSpinsAwarded = base.scatterTrigger ? slotFreeSpinsAwarded : 0;
  for (let i = 0; i < freeSpinsAwarded; i += 1) spins.push(spin(source, 'free'));
  const totalUnits = spins.reduce((sum, s) => sum + s.units * s.multiplier, 0);
  const multiplier = rational(BigInt(totalUnits), BigInt(slotLineCount));
  const partial = {
    game: 'slot' as const,
    stake: bet.stake,
    payout: floorTimes(bet.stake, multiplier),
    spins,
    freeSpinsAwarded,
    totalUnits,
    multiplier,
  };
  return { ...partial, description: describeRound(partial) };
}
