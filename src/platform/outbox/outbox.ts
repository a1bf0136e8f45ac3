// The transactional outbox (ARCHITECTURE.md §2 rule 3): a state change and the event that tells
// others about it are written in the same database transaction, so either both happen or
// neither does. The relay (relay.ts) publishes the rows later; the inbox (inbox.ts) lets a
// consumer apply each event once however often it is delivered.
import { assert } from '../assert.ts';
import type { MigrationSet, Queryable, Statement } from '../db/index.ts';
import { isUuid, uuidv7 } from '../ids/index.ts';

const SCHEMA_RE = /^[a-z][a-z0-9_]*$/;
/** PostgreSQL truncates identifiers beyond 63 bytes; a longer name would silently alias another. */
const SCHEMA_LENGTH_MAX = 63;
/** Events per writeEvents call: one INSERT statement, and a bound on what one transaction emits. */
export const eventsPerWriteMax = 1_000;

/** Returns the schema name when it is a safe SQL identifier, and throws otherwise. */
export function checkedSchema(schema: string): string {
  assert(
    SCHEMA_RE.test(schema) && schema.length <= SCHEMA_LENGTH_MAX,
    `schema name '${schema}' must match ${SCHEMA_RE.source} (at most ${SCHEMA_LENGTH_MAX} characters)`,
  );
  return schema;
}

export function outboxMigrationSet(schema: string): MigrationSet {
  const s = checkedSchema(schema);
  return {
    scope: `${s}.outbox`,
    migrations: [
      {
        version: 1,
        name: 'outbox_inbox',
        sql: `
create schema if not exists ${s};

create table ${s}.outbox (
  seq bigint generated always as identity primary key,
  event_id uuid not null unique,
  subject text not null,
  payload jsonb not null,
  headers jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  published_at timestamptz
);
-- The relay reads only what is left to publish, in order; published rows drop out of the index.
create index outbox_unpublished_idx on ${s}.outbox (seq) where published_at is null;

-- One row at most: whoever holds it (until expires_at) is the only relay publishing this schema.
create table ${s}.outbox_lease (
  id smallint primary key default 1 check (id = 1),
  holder text not null,
  expires_at timestamptz not null
);

create table ${s}.inbox (
  consumer text not null,
  event_id text not null,
  handled_at timestamptz not null default now(),
  primary key (consumer, event_id)
);
`,
      },
    ],
  };
}

export interface NewEvent {
  /** Defaults to a fresh UUIDv7. */
  id?: string;
  subject: string;
  /** JSON-serialisable; money as a decimal string (JSON.stringify refuses bigint, on purpose). */
  payload: unknown;
  headers?: Record<string, string>;
}

/**
 * Adds events to the outbox inside the caller's transaction, in the given order, and returns
 * their ids. They are published only if that transaction commits.
 */
export async function writeEvents(
  tx: Queryable,
  schema: string,
  events: readonly NewEvent[],
): Promise<string[]> {
  const { statement, ids } = eventsStatement(schema, events);
  if (statement) await tx.query(statement.text, statement.params);
  return ids;
}

/**
 * The statement that writeEvents runs, with the events' ids, for a caller that sends it in a
 * pipeline with its other writes (no statement for no events).
 */
export function eventsStatement(
  schema: string,
  events: readonly NewEvent[],
): { statement: Statement | undefined; ids: string[] } {
  const s = checkedSchema(schema);
  assert(events.length <= eventsPerWriteMax, `at most ${eventsPerWriteMax} events per writeEvents call`);
  if (events.length === 0) return { statement: undefined, ids: [] };
  const ids: string[] = [];
  const params: unknown[] = [];
  const rows: string[] = [];
  for (const event of events) {
    const id = event.id ?? uuidv7();
    assert(isUuid(id), `event id '${id}' is not a UUID`);
    assert(event.subject.length > 0, 'an event needs a subject');
    ids.push(id);
    // Serialised here (not by the driver) so that both adapters store exactly the same JSON.
    const payload = JSON.stringify(event.payload) as string | undefined;
    params.push(id, event.subject, payload ?? 'null', JSON.stringify(event.headers ?? {}));
    const base = params.length - 4;
    rows.push(`($${base + 1}::uuid, $${base + 2}, $${base + 3}::jsonb, $${base + 4}::jsonb)`);
  }
  // One multi-row VALUES list: rows take their seq numbers in list order.
  return {
    statement: {
      text: `insert into ${s}.outbox (event_id, subject, payload, headers) values ${rows.join(', ')}`,
      params,
    },
    ids,
  };
}
