// The operator audit trail (GLI-19): every write an operator makes is recorded with who, what,
// on which target, why, and the values before and after. Each context keeps its own audit_log
// in its own schema (written in the same transaction as the change it describes, so the change
// and its record commit together); the back office merges the contexts' pages into one
// newest-first list. A trigger makes the table append-only: not even a bug in our own code can
// edit or erase history.
import { assert } from '../assert.ts';
import type { MigrationSet, Queryable } from '../db/index.ts';
import { isUuid, uuidv7 } from '../ids/ids.ts';
import { checkedSchema } from '../outbox/outbox.ts';

/** Largest page one query returns. */
export const auditPageLimitMax = 1_000;

export function auditMigrationSet(schema: string): MigrationSet {
  const s = checkedSchema(schema);
  return {
    scope: `${s}.audit`,
    migrations: [
      {
        version: 1,
        name: 'audit_log',
        sql: `
create schema if not exists ${s};

-- UUIDv7 ids are time-ordered, so the primary key alone serves newest-first pages.
create table ${s}.audit_log (
  id uuid primary key,
  at timestamptz not null,
  actor text not null,
  action text not null,
  target text not null,
  before jsonb,
  after jsonb,
  reason text
);

create function ${s}.audit_log_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'audit_log is append-only: % refused', tg_op using errcode = 'P0001';
end;
$$;

create trigger audit_log_no_update_or_delete before update or delete on ${s}.audit_log
  for each row execute function ${s}.audit_log_append_only();
create trigger audit_log_no_truncate before truncate on ${s}.audit_log
  for each statement execute function ${s}.audit_log_append_only();
`,
      },
    ],
  };
}

export interface NewAuditEntry {
  /** Defaults to uuidv7(at). */
  id?: string;
  at: Date;
  /** Who did it: an operator id, or a system actor such as "system:scheduler". */
  actor: string;
  /** What was done, e.g. "player.block". */
  action: string;
  /** What it was done to, e.g. "player:0193…". */
  target: string;
  /** JSON values; bigint anywhere inside is stored as its decimal string. */
  before: unknown;
  after: unknown;
  reason: string | null;
}

export interface AuditEntry {
  id: string;
  at: Date;
  actor: string;
  action: string;
  target: string;
  before: unknown;
  after: unknown;
  reason: string | null;
}

/** JSON.stringify refuses bigint; an audit record must keep money exact, so it becomes a decimal string. */
function bigintAsString(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** The JSON text of a value, or null (SQL NULL) for null and undefined. */
function auditJson(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  // JSON.stringify answers undefined for a value with no JSON form (a function, a symbol).
  const text = JSON.stringify(value, bigintAsString) as string | undefined;
  return text ?? null;
}

/** Appends one entry in the caller's transaction (so it commits with the change); returns its id. */
export async function recordAudit(q: Queryable, schema: string, entry: NewAuditEntry): Promise<string> {
  const s = checkedSchema(schema);
  assert(!Number.isNaN(entry.at.getTime()), 'an audit entry needs a valid time');
  assert(entry.actor.length > 0, 'an audit entry needs an actor');
  assert(entry.action.length > 0, 'an audit entry needs an action');
  assert(entry.target.length > 0, 'an audit entry needs a target');
  const id = entry.id ?? uuidv7(entry.at.getTime());
  assert(isUuid(id), `audit id '${id}' is not a UUID`);
  await q.query(
    `insert into ${s}.audit_log (id, at, actor, action, target, before, after, reason)
     values ($1::uuid, $2::timestamptz, $3, $4, $5, $6::jsonb, $7::jsonb, $8)`,
    [
      id,
      entry.at.toISOString(),
      entry.actor,
      entry.action,
      entry.target,
      auditJson(entry.before),
      auditJson(entry.after),
      entry.reason,
    ],
  );
  return id;
}

interface AuditRow {
  id: string;
  at: Date | string;
  actor: string;
  action: string;
  target: string;
  before: unknown;
  after: unknown;
  reason: string | null;
}

/** Up to `limit` entries, newest first; with beforeId, only those older than it (the cursor). */
export async function auditPage(
  q: Queryable,
  schema: string,
  page: { limit: number; beforeId?: string },
): Promise<AuditEntry[]> {
  const s = checkedSchema(schema);
  assert(
    Number.isSafeInteger(page.limit) && page.limit >= 1 && page.limit <= auditPageLimitMax,
    `an audit page holds 1 to ${auditPageLimitMax} entries`,
  );
  const columns = 'id, at, actor, action, target, before, after, reason';
  let result;
  if (page.beforeId === undefined) {
    result = await q.query<AuditRow>(`select ${columns} from ${s}.audit_log order by id desc limit $1`, [
      page.limit,
    ]);
  } else {
    assert(isUuid(page.beforeId), `audit cursor '${page.beforeId}' is not a UUID`);
    result = await q.query<AuditRow>(
      `select ${columns} from ${s}.audit_log where id < $1::uuid order by id desc limit $2`,
      [page.beforeId, page.limit],
    );
  }
  return result.rows.map((row) => ({
    id: row.id,
    at: row.at instanceof Date ? row.at : new Date(row.at),
    actor: row.actor,
    action: row.action,
    target: row.target,
    before: row.before,
    after: row.after,
    reason: row.reason,
  }));
}

/**
 * Merges several contexts' pages (each newest first, each read with the same limit and cursor)
 * into the newest `limit` entries of all of them. Any entry newer than the returned cursor is
 * in this page: a source missing from it already had `limit` newer ones, which would all have
 * outranked it. So paging on with nextCursor skips nothing and repeats nothing.
 */
export function mergeAuditPages(
  pages: readonly (readonly AuditEntry[])[],
  limit: number,
): { items: AuditEntry[]; nextCursor: string | null } {
  assert(Number.isSafeInteger(limit) && limit >= 1, 'a merged page needs a positive limit');
  for (const page of pages) {
    for (let i = 1; i < page.length; i++) {
      assert(page[i - 1]!.id > page[i]!.id, 'each audit page must be newest first');
    }
  }
  // k-way merge: the number of sources (contexts) is small, so a linear scan for the head beats a heap.
  const heads = pages.map(() => 0);
  const items: AuditEntry[] = [];
  while (items.length < limit) {
    let best = -1;
    for (let source = 0; source < pages.length; source++) {
      const candidate = pages[source]![heads[source]!];
      if (candidate === undefined) continue;
      if (best === -1 || candidate.id > pages[best]![heads[best]!]!.id) best = source;
    }
    if (best === -1) break;
    items.push(pages[best]![heads[best]!]!);
    heads[best]! += 1;
  }
  return { items, nextCursor: items.length === limit ? items[limit - 1]!.id : null };
}
