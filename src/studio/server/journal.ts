// The studio's own storage: an fsync'd JSON Lines journal in its data folder, replayed and
// compacted at start (see sandbox/journal.ts), one line per state change, written before the change
// is acted on (a bet is journalled before it is sent, an outcome before it is shown, a pending win
// before it is first attempted). Its meta line names the provider id (one folder per studio).
//
// bigint values (stakes, payouts, exact multipliers) are written as {"$bigint": "<digits>"} and
// revived on reading, so a round record read back is deep-equal to the one that was played.
import { readJournal as readAny, rewriteJournal as rewriteAny } from '../../sandbox/journal.ts';
import type { Journal, JournalFormat } from '../../sandbox/journal.ts';

export type { Journal } from '../../sandbox/journal.ts';

export const JOURNAL_FILE = 'studio.jsonl';
const BIGINT_TAG = '$bigint';

/** JSON text of a value whose bigints are tagged. */
export function encode(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    typeof item === 'bigint' ? { [BIGINT_TAG]: item.toString() } : item,
  );
}

/** Parses JSON text, reviving tagged bigints. */
export function decode(text: string): unknown {
  return JSON.parse(text, (_key, item: unknown) => {
    if (typeof item === 'object' && item !== null && !Array.isArray(item)) {
      const record = item as Record<string, unknown>;
      const keys = Object.keys(record);
      const digits = record[BIGINT_TAG];
      if (keys.length === 1 && typeof digits === 'string' && /^-?\d+$/.test(digits)) return BigInt(digits);
    }
    return item;
  });
}

const FORMAT: JournalFormat = {
  file: JOURNAL_FILE,
  label: 'studio',
  ownerField: 'providerId',
  ownerNoun: 'provider',
  folderOwner: 'studio',
  // The journal holds the active server seeds: its folder is the studio's user's only.
  folderMode: 0o700,
  encode,
  decode,
};

/** Reads the journal of `dataDir` (none yet → []), checking it belongs to `providerId`. */
export function readJournal(dataDir: string, providerId: string): unknown[] {
  return readAny(FORMAT, dataDir, providerId);
}

/** Replaces the journal with `entries` (after a meta line) and opens it for appending. */
export function rewriteJournal(dataDir: string, providerId: string, entries: readonly object[]): Journal {
  return rewriteAny(FORMAT, dataDir, providerId, entries);
}
