// Proves the audit log keeps every entry exactly (bigint as decimal text), refuses any edit or deletion, and pages newest-first across several contexts without gaps or repeats.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openTestDb } from '../../../../test/support/backend.ts';
import type { TestDb } from '../../../../test/support/backend.ts';
import type { Db } from '../../db/index.ts';
import { migrate } from '../../db/index.ts';
import { uuidv7 } from '../../ids/index.ts';
import { auditMigrationSet, auditPage, mergeAuditPages, recordAudit } from '../index.ts';
import type { AuditEntry, NewAuditEntry } from '../index.ts';

let testDb: TestDb;
let db: Db;
let schemaCounter = 0;

async function freshSchema(): Promise<string> {
  schemaCounter += 1;
  const schema = `aud_${schemaCounter}`;
  await migrate(db, [auditMigrationSet(schema)]);
  return schema;
}

const START_MS = Date.UTC(2026, 0, 1);

function entry(index: number, overrides: Partial<NewAuditEntry> = {}): NewAuditEntry {
  return {
    at: new Date(START_MS + index * 1_000),
    actor: 'operator:alice',
    action: 'player.block',
    target: `player:${index}`,
    before: { status: 'active' },
    after: { status: 'blocked' },
    reason: `ticket ${index}`,
    ...overrides,
  };
}

before(async () => {
  testDb = await openTestDb();
  db = testDb.db;
});

after(async () => {
  await testDb.close();
});

describe('audit log', () => {
  it('records entries and pages them newest first with a cursor', async () => {
    const schema = await freshSchema();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await recordAudit(db, schema, entry(i)));
    const first = await auditPage(db, schema, { limit: 2 });
    assert.deepEqual(
      first.map((item) => item.id),
      [ids[4], ids[3]],
    );
    assert.deepEqual(first[0], {
      id: ids[4],
      at: new Date(START_MS + 4_000),
      actor: 'operator:alice',
      action: 'player.block',
      target: 'player:4',
      before: { status: 'active' },
      after: { status: 'blocked' },
      reason: 'ticket 4',
    });
    const second = await auditPage(db, schema, { limit: 2, beforeId: first[1]!.id });
    assert.deepEqual(
      second.map((item) => item.id),
      [ids[2], ids[1]],
    );
    const last = await auditPage(db, schema, { limit: 2, beforeId: second[1]!.id });
    assert.deepEqual(
      last.map((item) => item.id),
      [ids[0]],
    );
  });

  it('stores null before/after as null and keeps a given id', async () => {
    const schema = await freshSchema();
    const id = uuidv7(START_MS);
    assert.equal(
      await recordAudit(db, schema, entry(0, { id, before: null, after: undefined, reason: null })),
      id,
    );
    const [stored] = await auditPage(db, schema, { limit: 10 });
    assert.equal(stored?.id, id);
    assert.equal(stored?.before, null);
    assert.equal(stored?.after, null);
    assert.equal(stored?.reason, null);
  });

  it('refuses updates, deletes and truncation', async () => {
    const schema = await freshSchema();
    const id = await recordAudit(db, schema, entry(0));
    await assert.rejects(
      db.query(`update ${schema}.audit_log set reason = 'edited' where id = $1`, [id]),
      /append-only/,
    );
    await assert.rejects(db.query(`delete from ${schema}.audit_log where id = $1`, [id]), /append-only/);
    await assert.rejects(db.exec(`truncate ${schema}.audit_log`), /append-only/);
    const [stored] = await auditPage(db, schema, { limit: 1 });
    assert.equal(stored?.reason, 'ticket 0');
  });

  it('keeps bigint values exact as decimal strings, however deep', async () => {
    const schema = await freshSchema();
    const huge = 2n ** 70n + 1n;
    await recordAudit(
      db,
      schema,
      entry(0, {
        action: 'wallet.adjust',
        before: { balance: 9_007_199_254_740_993n, limits: [{ daily: huge }] },
        after: 12n,
      }),
    );
    const [stored] = await auditPage(db, schema, { limit: 1 });
    assert.deepEqual(stored?.before, { balance: '9007199254740993', limits: [{ daily: huge.toString() }] });
    assert.equal(stored?.after, '12');
  });

  it('merges three contexts page by page without gaps or repeats', async () => {
    const schemas = [await freshSchema(), await freshSchema(), await freshSchema()];
    const all: string[] = [];
    // Uneven and interleaved: one context far busier than the others, one quiet stretch.
    const pattern = [0, 0, 1, 0, 2, 0, 0, 0, 1, 1, 2, 0, 0, 1, 0, 0, 0, 0, 2, 1, 0, 0, 2, 2, 2, 2, 0, 1];
    for (const [index, source] of pattern.entries()) {
      all.push(await recordAudit(db, schemas[source]!, entry(index, { target: `t:${source}:${index}` })));
    }
    const newestFirst = [...all].reverse();

    for (const limit of [1, 3, 4, 7, 28, 50]) {
      const seen: AuditEntry[] = [];
      let cursor: string | undefined;
      for (let guard = 0; guard < 100; guard++) {
        const page = { limit, ...(cursor === undefined ? {} : { beforeId: cursor }) };
        const pages = await Promise.all(schemas.map((schema) => auditPage(db, schema, page)));
        const merged = mergeAuditPages(pages, limit);
        assert.ok(merged.items.length <= limit);
        seen.push(...merged.items);
        if (merged.nextCursor === null) break;
        assert.equal(merged.nextCursor, merged.items.at(-1)?.id);
        cursor = merged.nextCursor;
      }
      assert.deepEqual(
        seen.map((item) => item.id),
        newestFirst,
        `limit ${limit}`,
      );
    }
  });

  it('returns no cursor when the sources hold fewer entries than the limit', () => {
    const a: AuditEntry = { ...entry(0), id: uuidv7(START_MS), reason: null };
    const b: AuditEntry = { ...entry(1), id: uuidv7(START_MS + 1), reason: null };
    assert.deepEqual(mergeAuditPages([[b], [], [a]], 3), { items: [b, a], nextCursor: null });
    assert.deepEqual(mergeAuditPages([[b], [a]], 2), { items: [b, a], nextCursor: a.id });
    assert.deepEqual(mergeAuditPages([], 5), { items: [], nextCursor: null });
  });
});
