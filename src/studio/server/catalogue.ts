// What the studio offers the platform and its players: the three games of the math core
// (docs/studio-games.md), the catalogue rows an operator registers (gameId, name, type, rtp), the
// launch URL template, and the translation between the studio's JSON API (amounts as decimal
// strings in major units) and the math core's requests and outcomes (bigint minor units).
import type { GameType, Rational, RoundOutcome, RoundRequest, RouletteBet } from '../games/index.ts';
import {
  checkRoundRequest,
  diceGameId,
  diceMaxWinMultiplier,
  diceRtp,
  diceRtpPercent,
  diceTargetMax,
  diceTargetMin,
  rouletteBetsMax,
  rouletteGameId,
  rouletteMaxWinMultiplier,
  rouletteRtp,
  rouletteRtpPercent,
  slotGameId,
  slotMaxWinMultiplier,
  slotRtp,
  slotRtpPercent,
  formatDecimal,
  mul,
  rational,
} from '../games/index.ts';
import { formatAmount, parseAmount } from './money.ts';
import type { CurrencyTable } from './money.ts';

/** A catalogue row as the platform's back office takes it (contract §4 `POST /admin/v1/games`). */
export interface StudioCatalogueEntry {
  readonly gameId: string;
  readonly name: string;
  /** The platform's game type: slot, table or instant. */
  readonly type: 'slot' | 'table' | 'instant';
  /**
   * Percent with two decimals, rounded down so the catalogue never promises more than the game
   * returns (the platform takes at most two decimals): 96.22, 99, 97.29.
   */
  readonly rtp: number;
}

export interface StudioGameInfo extends StudioCatalogueEntry {
  /** The math core's game. */
  readonly game: GameType;
  /** The exact RTP to four decimals, as docs/studio-games.md publishes it: "96.2276". */
  readonly rtpPercent: string;
  /** Largest payout as a multiple of the round's stake. */
  readonly maxWinMultiplier: string;
  /** Short rules for the game page (the full rules: docs/studio-games.md). */
  readonly rules: readonly string[];
}

const games: readonly StudioGameInfo[] = Object.freeze([
  {
    gameId: slotGameId,
    name: 'Studio Fruits',
    type: 'slot',
    game: 'slot',
    rtp: catalogueRtp(slotRtp),
    rtpPercent: slotRtpPercent,
    maxWinMultiplier: ratioText(slotMaxWinMultiplier),
    rules: [
      '5 reels, 3 rows, 10 fixed paylines; every spin plays all 10 lines at stake ÷ 10 per line.',
      'Line wins: 3, 4 or 5 matching symbols from the leftmost reel; WILD substitutes for all but SCATTER.',
      'Pays per line bet: WILD 50/250/1000, SEVEN 25/100/500, BAR 15/50/200, BELL 8/30/100, PLUM 4/15/60, ORANGE 4/8/40, CHERRY 2/5/20.',
      '3, 4 or 5 SCATTERs anywhere pay 2×, 10× or 50× the stake and award 10 free spins where every win is doubled (no retrigger).',
      'The payout of a round is floor(stake × line-bet units ÷ 10), credited once per round.',
    ],
  },
  {
    gameId: diceGameId,
    name: 'Studio Dice',
    type: 'instant',
    game: 'dice',
    rtp: catalogueRtp(diceRtp),
    rtpPercent: diceRtpPercent,
    maxWinMultiplier: ratioText(diceMaxWinMultiplier),
    rules: [
      'The roll is a uniform number from 0.00 to 99.99.',
      'Pick a target from 1.00 to 98.00: you win when the roll is under the target.',
      'A win pays stake × 99 ÷ target (1 % house edge), floored to the cent: under 50.00 pays 1.98×.',
    ],
  },
  {
    gameId: rouletteGameId,
    name: 'European Roulette',
    type: 'table',
    game: 'roulette',
    rtp: catalogueRtp(rouletteRtp),
    rtpPercent: rouletteRtpPercent,
    maxWinMultiplier: ratioText(rouletteMaxWinMultiplier),
    rules: [
      'One zero, 37 equally likely pockets; up to 200 bets per spin, each with its own stake.',
      'Straight 35:1, split (two adjacent numbers) 17:1, red/black and odd/even 1:1, dozens 2:1.',
      'Zero loses every bet that does not cover it (no la partage, no en prison).',
    ],
  },
]);

/** The games to register at the platform: one `POST /admin/v1/games` body each (plus providerId). */
export function studioCatalogue(): StudioCatalogueEntry[] {
  return games.map(({ gameId, name, type, rtp }) => ({ gameId, name, type, rtp }));
}

/** Everything the studio publishes about its games (the page and `GET /api/games`). */
export function studioGames(): readonly StudioGameInfo[] {
  return games;
}

export function gameInfo(gameId: string): StudioGameInfo | undefined {
  return games.find((game) => game.gameId === gameId);
}

/**
 * The provider's launch URL template for the platform (`launchUrlTemplate` of
 * `POST /admin/v1/providers`): the studio's game page with the session in the query.
 */
export function studioLaunchUrlTemplate(studioUrl: string): string {
  const base = studioUrl.replace(/\/+$/, '');
  return `${base}/play/{gameId}?sessionToken={sessionToken}&playerId={playerId}&currency={currency}`;
}

function catalogueRtp(rtp: Rational): number {
  return Number(formatDecimal(mul(rtp, rational(100n)), 2, 'floor'));
}

function ratioText(r: Rational): string {
  return r.den === 1n ? r.num.toString() : `${r.num}/${r.den}`;
}

// ---- JSON API ↔ math core -----------------------------------------------------------------

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

const ROULETTE_KINDS = ['straight', 'split', 'red', 'black', 'odd', 'even', 'dozen'] as const;
const TARGET_RE = /^(\d{1,2})(?:\.(\d{1,2}))?$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function onlyFields(body: Record<string, unknown>, allowed: readonly string[]): string | undefined {
  const extra = Object.keys(body).find((key) => !allowed.includes(key));
  return extra === undefined ? undefined : `unknown field ${JSON.stringify(extra)}`;
}

/**
 * A round request of the studio's JSON API for `game`, in `currency`:
 *   slot     {stake: "1.00"}
 *   dice     {stake: "1.00", target: "50.00"}   (win when the roll is under target)
 *   roulette {bets: [{kind: "straight", number: 17, stake: "1.00"}, {kind: "split", numbers: [0, 3],
 *            stake}, {kind: "red"|"black"|"odd"|"even", stake}, {kind: "dozen", dozen: 1|2|3, stake}]}
 * Stakes must be within the currency's table limits (each roulette bet ≥ the minimum, their sum
 * ≤ the maximum) and pass the game's own checks.
 */
export function parseRoundRequest(
  game: GameType,
  body: unknown,
  currency: string,
  currencies: CurrencyTable,
): Parsed<RoundRequest> {
  const rules = currencies.get(currency);
  if (!rules) return { ok: false, message: `the studio does not play in ${currency}` };
  if (!isObject(body)) return { ok: false, message: 'body must be a JSON object' };
  const stakeOf = (value: unknown, what: string): Parsed<bigint> => {
    const parsed = parseAmount(value, rules.scale);
    if (!parsed.ok) return { ok: false, message: `${what} ${parsed.message}` };
    if (parsed.minor < rules.min) {
      return {
        ok: false,
        message: `${what} must be at least ${formatAmount(rules.min, rules.scale)} ${currency}`,
      };
    }
    return { ok: true, value: parsed.minor };
  };
  let request: RoundRequest;
  switch (game) {
    case 'slot': {
      const problem = onlyFields(body, ['stake']);
      if (problem) return { ok: false, message: problem };
      const stake = stakeOf(body['stake'], 'stake');
      if (!stake.ok) return stake;
      request = { game: 'slot', stake: stake.value };
      break;
    }
    case 'dice': {
      const problem = onlyFields(body, ['stake', 'target']);
      if (problem) return { ok: false, message: problem };
      const stake = stakeOf(body['stake'], 'stake');
      if (!stake.ok) return stake;
      const target = parseTarget(body['target']);
      if (!target.ok) return target;
      request = { game: 'dice', stake: stake.value, target: target.value };
      break;
    }
    case 'roulette': {
      const problem = onlyFields(body, ['bets']);
      if (problem) return { ok: false, message: problem };
      const list = body['bets'];
      if (!Array.isArray(list) || list.length === 0)
        return { ok: false, message: 'bets must be a non-empty list' };
      if (list.length > rouletteBetsMax)
        return { ok: false, message: `at most ${rouletteBetsMax} bets per spin` };
      const bets: RouletteBet[] = [];
      for (const [index, item] of list.entries()) {
        const bet = parseRouletteBet(item, (value) => stakeOf(value, `bet ${index + 1} stake`));
        if (!bet.ok)
          return {
            ok: false,
            message: bet.message.startsWith('bet ') ? bet.message : `bet ${index + 1}: ${bet.message}`,
          };
        bets.push(bet.value);
      }
      request = { game: 'roulette', bets };
      break;
    }
  }
  const total = roundStake(request);
  if (total > rules.max) {
    return {
      ok: false,
      message: `the round's stake must be at most ${formatAmount(rules.max, rules.scale)} ${currency}`,
    };
  }
  const check = checkRoundRequest(request);
  if (!check.ok) return { ok: false, message: check.reason };
  return { ok: true, value: request };
}

function parseTarget(value: unknown): Parsed<number> {
  const range = `target must be a decimal string from ${formatAmount(BigInt(diceTargetMin), 2)} to ${formatAmount(BigInt(diceTargetMax), 2)}`;
  if (typeof value !== 'string') return { ok: false, message: range };
  const match = TARGET_RE.exec(value);
  if (!match) return { ok: false, message: range };
  const hundredths = Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
  if (hundredths < diceTargetMin || hundredths > diceTargetMax) return { ok: false, message: range };
  return { ok: true, value: hundredths };
}

function parseRouletteBet(item: unknown, stakeOf: (value: unknown) => Parsed<bigint>): Parsed<RouletteBet> {
  if (!isObject(item)) return { ok: false, message: 'a bet must be an object' };
  const kind = ROULETTE_KINDS.find((candidate) => candidate === item['kind']);
  if (kind === undefined) return { ok: false, message: `kind must be one of ${ROULETTE_KINDS.join(', ')}` };
  const stake = stakeOf(item['stake']);
  if (!stake.ok) return stake;
  const isPocket = (value: unknown): value is number =>
    typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 36;
  switch (kind) {
    case 'straight': {
      const problem = onlyFields(item, ['kind', 'number', 'stake']);
      if (problem) return { ok: false, message: problem };
      const number = item['number'];
      if (!isPocket(number)) return { ok: false, message: 'a straight bet needs a number 0–36' };
      return { ok: true, value: { kind, number, stake: stake.value } };
    }
    case 'split': {
      const problem = onlyFields(item, ['kind', 'numbers', 'stake']);
      if (problem) return { ok: false, message: problem };
      const numbers = item['numbers'];
      if (!Array.isArray(numbers) || numbers.length !== 2 || !isPocket(numbers[0]) || !isPocket(numbers[1])) {
        return { ok: false, message: 'a split needs two numbers 0–36' };
      }
      return { ok: true, value: { kind, numbers: [numbers[0], numbers[1]], stake: stake.value } };
    }
    case 'dozen': {
      const problem = onlyFields(item, ['kind', 'dozen', 'stake']);
      if (problem) return { ok: false, message: problem };
      const dozen = item['dozen'];
      if (dozen !== 1 && dozen !== 2 && dozen !== 3)
        return { ok: false, message: 'a dozen bet needs dozen 1, 2 or 3' };
      return { ok: true, value: { kind, dozen, stake: stake.value } };
    }
    default: {
      const problem = onlyFields(item, ['kind', 'stake']);
      if (problem) return { ok: false, message: problem };
      return { ok: true, value: { kind, stake: stake.value } };
    }
  }
}

/** The total staked on a round, minor units. */
export function roundStake(request: RoundRequest): bigint {
  return request.game === 'roulette' ? request.bets.reduce((sum, bet) => sum + bet.stake, 0n) : request.stake;
}

function isRational(value: object): value is Rational {
  const keys = Object.keys(value);
  return (
    keys.length === 2 &&
    typeof (value as Record<string, unknown>)['num'] === 'bigint' &&
    typeof (value as Record<string, unknown>)['den'] === 'bigint'
  );
}

/**
 * A request or outcome of the math core as JSON for the studio's API: every bigint is money and
 * becomes a decimal string in major units, except exact multipliers ({num, den}), which become
 * "num/den" (e.g. dice under 50.00: "99/50").
 */
export function toWire(value: unknown, scale: number): unknown {
  if (typeof value === 'bigint') return formatAmount(value, scale);
  if (Array.isArray(value)) return value.map((item) => toWire(item, scale));
  if (typeof value === 'object' && value !== null) {
    if (isRational(value)) return ratioText(value);
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = toWire(item, scale);
    return out;
  }
  return value;
}

/** A request back in the API's own shape (what a player would send to replay it). */
export function requestToWire(request: RoundRequest, scale: number): Record<string, unknown> {
  switch (request.game) {
    case 'slot':
      return { stake: formatAmount(request.stake, scale) };
    case 'dice':
      return { stake: formatAmount(request.stake, scale), target: formatAmount(BigInt(request.target), 2) };
    case 'roulette':
      return { bets: toWire(request.bets, scale) };
  }
}

/** The outcome's game-specific part for the API. */
export function outcomeToWire(outcome: RoundOutcome, scale: number): Record<string, unknown> {
  return toWire(outcome, scale) as Record<string, unknown>;
}
