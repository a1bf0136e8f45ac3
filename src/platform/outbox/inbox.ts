// The inbox: buses deliver at least once, so a consumer records each event id it has handled in
// the same transaction as the handling's effect. A redelivery finds the id and does nothing; a
// handler that fails rolls back both the effect and the record, so the event can be tried again.
import type { DeliveredMessage, MessageHandler } from '../bus/index.ts';
import type { Db, Queryable } from '../db/index.ts';
import { checkedSchema } from './outbox.ts';

/**
 * Runs `work` once per (consumer, event id): in one transaction, records the event and runs
 * `work` on that transaction. Returns true when it ran, false when the event was handled before.
 */
export async function handleOnce(
  db: Db,
  schema: string,
  consumer: string,
  eventId: string,
  work: (tx: Queryable) => Promise<void>,
): Promise<boolean> {
  const s = checkedSchema(schema);
  return db.transaction(async (tx) => {
    // A concurrent delivery of the same event waits here on the key until this one commits or
    // rolls back, then inserts nothing (or takes over after a rollback).
    const { rows } = await tx.query(
      `insert into ${s}.inbox (consumer, event_id) values ($1, $2) on conflict do nothing returning 1 as inserted`,
      [consumer, eventId],
    );
    if (rows.length === 0) return false;
    await work(tx);
    return true;
  });
}

/** A bus handler that applies each event at most once for `consumer` (see handleOnce). */
export function idempotentHandler(
  db: Db,
  schema: string,
  consumer: string,
  work: (tx: Queryable, message: DeliveredMessage) => Promise<void>,
): MessageHandler {
  checkedSchema(schema);
  return async (message) => {
    await handleOnce(db, schema, consumer, message.id, (tx) => work(tx, message));
  };
}
