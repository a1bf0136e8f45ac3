// Forward-only SQL migrations, one ordered set per context schema (plus the platform's own sets,
// such as each schema's outbox). Applied at start in one transaction under an advisory lock, so
// parallel starts on PostgreSQL are safe: the second waits, then finds nothing left to do.
// An applied migration whose text has changed stops start-up: history is never rewritten.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { assert } from '../assert.ts';
import type { Db } from './db.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export interface MigrationSet {
  /** Unique name of the set, e.g. "wallet" or "wallet.outbox". */
  scope: string;
  migrations: readonly Migration[];
}

const FILE_RE = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** Reads `NNNN_name.sql` files from a folder; versions must run 1, 2, 3… without gaps. */
export function loadMigrations(folder: string): Migration[] {
  const migrations = readdirSync(folder)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => {
      const match = FILE_RE.exec(file);
      if (!match) throw new Error(`migration file '${file}' in ${folder} is not named NNNN_name.sql`);
      return {
        version: Number(match[1]),
        name: match[2]!,
        sql: readFileSync(path.join(folder, file), 'utf8'),
      };
    });
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new Error(
        `migrations in ${folder} must be numbered from 0001 without gaps (found ${migration.version})`,
      );
    }
  });
  return migrations;
}

function checksum(sql: string): string {
  return createHash('sha256').update(sql).digest('hex');
}

// Any constant works; it only has to be the same in every process of the platform.
const MIGRATION_LOCK_KEY = 0x43_52_4f_55_50; // "CROUP"

export interface MigrationReport {
  applied: { scope: string; version: number; name: string }[];
}

export async function migrate(db: Db, sets: readonly MigrationSet[]): Promise<MigrationReport> {
  const scopes = new Set<string>();
  for (const set of sets) {
    assert(!scopes.has(set.scope), `migration scope '${set.scope}' registered twice`);
    scopes.add(set.scope);
  }
  return db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await tx.exec(`
      create schema if not exists platform;
      create table if not exists platform.schema_migrations (
        scope text not null,
        version integer not null,
        name text not null,
        checksum text not null,
        applied_at timestamptz not null default now(),
        primary key (scope, version)
      );`);
    const { rows } = await tx.query<{ scope: string; version: number; checksum: string }>(
      'select scope, version, checksum from platform.schema_migrations',
    );
    const done = new Map(rows.map((row) => [`${row.scope}#${row.version}`, row.checksum]));
    const report: MigrationReport = { applied: [] };
    for (const set of sets) {
      for (const migration of set.migrations) {
        const sum = checksum(migration.sql);
        const previous = done.get(`${set.scope}#${migration.version}`);
        if (previous !== undefined) {
          if (previous !== sum) {
            throw new Error(
              `migration ${set.scope} ${migration.version} (${migration.name}) changed after it was applied; add a new migration instead`,
            );
          }
          continue;
        }
        await tx.exec(migration.sql);
        await tx.query(
          'insert into platform.schema_migrations (scope, version, name, checksum) values ($1, $2, $3, $4)',
          [set.scope, migration.version, migration.name, sum],
        );
        report.applied.push({ scope: set.scope, version: migration.version, name: migration.name });
      }
    }
    return report;
  });
}
