// The sandbox payment provider's own storage: an fsync'd JSON Lines journal in its data folder,
// replayed and compacted at start (see ../journal.ts), whose meta line names the instance.
import { readJournal as readAny, rewriteJournal as rewriteAny } from '../journal.ts';
import type { Journal, JournalFormat } from '../journal.ts';

export type { Journal } from '../journal.ts';

export const JOURNAL_FILE = 'payments-sandbox.jsonl';

const FORMAT: JournalFormat = {
  file: JOURNAL_FILE,
  label: 'payments sandbox',
  ownerField: 'name',
  ownerNoun: 'instance',
  folderOwner: 'instance',
  encode: (value) => JSON.stringify(value),
  decode: (text) => JSON.parse(text) as unknown,
};

/** Reads the journal of `dataDir` (none yet → []), checking it belongs to the instance `name`. */
export function readJournal(dataDir: string, name: string): unknown[] {
  return readAny(FORMAT, dataDir, name);
}

/** Replaces the journal with `entries` (after a meta line) and opens it for appending. */
export function rewriteJournal(dataDir: string, name: string, entries: readonly object[]): Journal {
  return rewriteAny(FORMAT, dataDir, name, entries);
}
