// The storage of an outside party (the payments sandbox, the game studio): an append-only JSON
// Lines journal in its data folder, one line per state change, written and fsync'd before the
// change is acted on. At start the journal is read back (the caller applies it: the last line for
// a key wins), then rewritten with only the current records (write a temporary file, fsync,
// rename, fsync the folder) so it does not grow without end across restarts. A torn last line
// (the process died mid-write) is ignored; a bad line anywhere else stops the start, as does a
// journal written for another owner (one data folder per instance).
//
// Each party keeps its own file name, meta field, wording and JSON codec (see JournalFormat), so
// the data folders written before this module existed still load.
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';

const FORMAT_VERSION = 1;

export interface Journal {
  readonly file: string;
  /** Appends one JSON line and fsyncs it; throws if the write fails. */
  append(entry: object): void;
  close(): void;
}

/** How one party names, tags and encodes its journal. */
export interface JournalFormat {
  /** The file's name in the data folder. */
  readonly file: string;
  /** Starts every error message, e.g. 'studio'. */
  readonly label: string;
  /** The meta line's field that names the owner, e.g. 'providerId'. */
  readonly ownerField: string;
  /** What the owner is called in the error for a foreign journal, e.g. 'provider'. */
  readonly ownerNoun: string;
  /** What owns one data folder, for that same error, e.g. 'studio'. */
  readonly folderOwner: string;
  /** Mode of the data folder when it is created (default: the process umask's). */
  readonly folderMode?: number;
  readonly encode: (value: unknown) => string;
  readonly decode: (text: string) => unknown;
}

/** Reads the journal of `dataDir` (none yet → []), checking it belongs to `owner`. */
export function readJournal(format: JournalFormat, dataDir: string, owner: string): unknown[] {
  const { label } = format;
  const file = path.join(dataDir, format.file);
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n');
  const entries: unknown[] = [];
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index] ?? '';
    if (line.trim() === '') continue;
    let entry: unknown;
    try {
      entry = format.decode(line);
    } catch {
      const isLast = lines.slice(index + 1).every((rest) => rest.trim() === '');
      if (isLast) break; // torn by a crash mid-write: that change never happened
      throw new Error(`${label}: ${file} line ${index + 1} is not JSON`);
    }
    entries.push(entry);
  }
  const [first, ...rest] = entries;
  const meta = metaOf(first, format.ownerField);
  if (meta === undefined) throw new Error(`${label}: ${file} does not start with its meta line`);
  if (meta.version !== FORMAT_VERSION) {
    throw new Error(`${label}: ${file} has format ${meta.version}, expected ${FORMAT_VERSION}`);
  }
  if (meta.owner !== owner) {
    throw new Error(
      `${label}: ${file} belongs to the ${format.ownerNoun} "${meta.owner}", not "${owner}" (one data folder per ${format.folderOwner})`,
    );
  }
  return rest;
}

/** Replaces the journal with `entries` (after a meta line) and opens it for appending. */
export function rewriteJournal(
  format: JournalFormat,
  dataDir: string,
  owner: string,
  entries: readonly object[],
): Journal {
  const { label, encode } = format;
  mkdirSync(
    dataDir,
    format.folderMode === undefined ? { recursive: true } : { recursive: true, mode: format.folderMode },
  );
  const file = path.join(dataDir, format.file);
  const temporary = `${file}.tmp`;
  const meta = { t: 'meta', version: FORMAT_VERSION, [format.ownerField]: owner };
  const text = [meta, ...entries].map((entry) => `${encode(entry)}\n`).join('');
  // A journal may hold secrets (the studio's active server seeds): readable by its user only.
  const scratch = openSync(temporary, 'w', 0o600);
  try {
    writeSync(scratch, text);
    fsyncSync(scratch);
  } finally {
    closeSync(scratch);
  }
  renameSync(temporary, file);
  syncFolder(dataDir);
  let fd: number | undefined = openSync(file, 'a', 0o600);
  return {
    file,
    append(entry: object): void {
      if (fd === undefined) throw new Error(`${label}: journal is closed`);
      writeSync(fd, `${encode(entry)}\n`);
      fsyncSync(fd);
    },
    close(): void {
      if (fd === undefined) return;
      closeSync(fd);
      fd = undefined;
    },
  };
}

/** Makes a rename durable; some platforms cannot open a folder, and then it is skipped. */
function syncFolder(folder: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(folder, 'r');
    fsyncSync(fd);
  } catch {
    // Not supported here (Windows): the rename is still atomic, only its durability is weaker.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The version and owner of a meta line, or undefined if `value` is not one. */
function metaOf(value: unknown, ownerField: string): { version: number; owner: string } | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const version = record['version'];
  const owner = record[ownerField];
  if (record['t'] !== 'meta' || typeof version !== 'number' || typeof owner !== 'string') return undefined;
  return { version, owner };
}
