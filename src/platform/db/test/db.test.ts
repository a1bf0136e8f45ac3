// Proves the db port behaves the same on PGlite and PostgreSQL: bigint money, atomic transactions,
// forward-only migrations that parallel starts apply exactly once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs, { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  INT8_ARRAY_OID,
  isUniqueViolation,
  loadMigrations,
  migrate,
  openPglite,
  openPostgres,
} from '../index.ts';
import { analyzeGrownTables } from '../pglite.ts';
import {
  arrayLiteral,
  binaryArray,
  BOOL_ARRAY_OID,
  TEXT_ARRAY_OID,
  TIMESTAMPTZ_ARRAY_OID,
} from '../params.ts';
import type { PlainElement } from '../params.ts';
import type { MigrationSet } from '../index.ts';
import { backendName, openTestDb } from '../../../../test/support/backend.ts';
import type { TestDb } from '../../../../test/support/backend.ts';

const sets: MigrationSet[] = [
  {
    scope: 'demo',
    migrations: [
      {
        version: 1,
        name: 'init',
        sql: 'create schema demo; create table demo.account (id text primary key, balance int8 not null check (balance >= 0));',
      },
      { version: 2, name: 'more', sql: 'alter table demo.account add column note text;' },
    ],
  },
];

describe(`db on ${backendName}`, () => {
  let test: TestDb;
  before(async () => {
    test = await openTestDb();
    await migrate(test.db, sets);
  });
  after(async () => test.close());

  it('reads int8 and int8[] as bigint, up to the column limit', async () => {
    const { rows } = await test.db.query<{ big: bigint; small: bigint; list: bigint[] }>(
      'select $1::int8 as big, 7::int8 as small, array[1, 2]::int8[] as list',
      [9223372036854775807n],
    );
    assert.deepEqual(rows[0], { big: 9223372036854775807n, small: 7n, list: [1n, 2n] });
    await assert.rejects(test.db.query('select $1::int8 + 1', [9223372036854775807n]), /out of range/);
  });

  it('commits a transaction that resolves and rolls back one that throws', async () => {
    await test.db.transaction(async (tx) => {
      await tx.query('insert into demo.account (id, balance) values ($1, $2)', ['a', 100n]);
    });
    await assert.rejects(
      test.db.transaction(async (tx) => {
        await tx.query('update demo.account set balance = balance - 30 where id = $1', ['a']);
        await tx.query('insert into demo.account (id, balance) values ($1, $2)', ['b', -1n]);
      }),
      /check constraint/,
    );
    const { rows } = await test.db.query<{ balance: bigint }>(
      'select balance from demo.account where id = $1',
      ['a'],
    );
    assert.equal(rows[0]?.balance, 100n, 'the half-done update was rolled back');
  });

  it('reports unique violations portably and counts touched rows', async () => {
    const error = await test.db
      .query('insert into demo.account (id, balance) values ($1, 0)', ['a'])
      .catch((e: unknown) => e);
    assert.ok(isUniqueViolation(error));
    const result = await test.db.query('update demo.account set note = $1', ['x']);
    assert.equal(result.rowCount, 1);
  });

  it('writes array parameters byte for byte as the server itself sends them (binary), and falls back to text where it cannot', async () => {
    const samples: [string, number, PlainElement[]][] = [
      ['int8', INT8_ARRAY_OID, [-9223372036854775808n, null, 0n, 9223372036854775807n, 42]],
      ['int8', INT8_ARRAY_OID, []],
      ['text', TEXT_ARRAY_OID, ['a,b', 'c"d', '', null, 'back\\slash', 'NULL', '{braces}', 'é✓ 😀']],
      // Short and long strings take different paths (params.ts LONG_STRING), ASCII or not.
      ['text', TEXT_ARRAY_OID, ['plain', 'a longer ascii string, past the short-string copy loop']],
      ['text', TEXT_ARRAY_OID, ['plain', 'a longer string with ü, past the short-string copy loop']],
      ['bool', BOOL_ARRAY_OID, [true, false, null]],
      [
        'timestamptz',
        TIMESTAMPTZ_ARRAY_OID,
        [new Date('2026-01-02T03:04:05.006Z'), null, new Date('1969-07-20T20:17:40.001Z')],
      ],
    ];
    for (const [type, oid, values] of samples) {
      // The server reads the text literal and answers with its own binary form (array_send).
      const { rows } = await test.db.query<{ sent: Uint8Array }>(
        `select array_send($1::text::${type}[]) as sent`,
        [arrayLiteral(values)],
      );
      const mine = binaryArray(values, oid);
      assert.ok(mine, `${type}[] is written in binary`);
      assert.equal(
        mine.toString('hex'),
        Buffer.from(rows[0]!.sent).toString('hex'),
        `${type}[] ${String(values)}`,
      );
    }
    // What binary cannot carry exactly goes as text, and the server judges it as before.
    assert.equal(binaryArray([2n ** 63n], INT8_ARRAY_OID), undefined);
    assert.equal(binaryArray([1.5], INT8_ARRAY_OID), undefined);
    assert.equal(binaryArray(['1'], INT8_ARRAY_OID), undefined);
    assert.equal(binaryArray([new Date(Number.NaN)], TIMESTAMPTZ_ARRAY_OID), undefined);
    assert.equal(binaryArray([1n], 1231 /* numeric[] */), undefined);
    for (let run = 0; run < 3; run++) {
      // Prepared in the first run, its parameter types known in the later ones.
      await assert.rejects(
        test.db.transaction((tx) => tx.query('select $1::int8[] as list', [[1n, 2n ** 63n]])),
        /out of range/,
      );
      const { rows } = await test.db.transaction((tx) =>
        tx.query<{ list: bigint[]; names: string[] }>('select $1::int8[] as list, $2::text[] as names', [
          [1n, -2n],
          ['x', 'ü'],
        ]),
      );
      assert.deepEqual(rows[0], { list: [1n, -2n], names: ['x', 'ü'] });
    }
  });

  it('reads the same values inside a transaction (prepared statements) as outside, and recovers from an error there', async () => {
    const sql = `select $1::int8 as big, $2::text as text, $3::bool as flag, $4::timestamptz as at,
                        $5::jsonb as doc, $6::int8[] as list, $7::text[] as names, $8::int8 as none,
                        $9::bool[]::text as flags, $10::timestamptz[]::text as ats, $11::numeric[]::text as sums,
                        $12::text[]::text as odd, $13::int8[]::text as empty, $14::jsonb as obj,
                        $15::jsonb as json_array`;
    const params = [
      -9223372036854775808n,
      'it\'s "quoted"',
      true,
      new Date('2026-11-21T10:00:00.123Z'),
      JSON.stringify({ a: [1, 'x'] }),
      [1n, null, 3n],
      ['a,b', 'c"d', ''],
      null,
      [true, false, null],
      [new Date('2026-01-02T03:04:05.006Z'), null],
      [2n ** 70n, -1n, 0n],
      ['back\\slash', 'NULL', ' spaced ', '{braces}', 'é✓'],
      [],
      { b: [2, null], c: 'd' },
      JSON.stringify([1, 'two']),
    ];
    const outside = (await test.db.query(sql, params)).rows;
    for (let run = 0; run < 3; run++) {
      // The first run prepares the statement, later runs reuse it.
      const inside = await test.db.transaction(async (tx) => (await tx.query(sql, params)).rows);
      assert.deepEqual(inside, outside);
    }
    assert.deepEqual(outside[0], {
      big: -9223372036854775808n,
      text: params[1],
      flag: true,
      at: params[3],
      doc: { a: [1, 'x'] },
      list: [1n, null, 3n],
      names: ['a,b', 'c"d', ''],
      none: null,
      flags: '{t,f,NULL}',
      ats: '{"2026-01-02 03:04:05.006+00",NULL}',
      sums: '{1180591620717411303424,-1,0}',
      odd: '{"back\\\\slash","NULL"," spaced ","{braces}",é✓}',
      empty: '{}',
      obj: { b: [2, null], c: 'd' },
      json_array: [1, 'two'],
    });
    // A failing statement inside a transaction: the transaction rolls back with the server's
    // error code, and the same statements work again afterwards.
    const insert = 'insert into demo.account (id, balance) values ($1, $2)';
    const error = await test.db
      .transaction(async (tx) => {
        await tx.query(insert, ['p1', 5n]);
        await tx.query(insert, ['p1', 6n]);
      })
      .catch((e: unknown) => e);
    assert.ok(isUniqueViolation(error));
    const counted = await test.db.transaction(async (tx) => {
      await tx.query(insert, ['p1', 7n]);
      return (await tx.query('update demo.account set balance = balance + $1 where id = $2', [1n, 'p1']))
        .rowCount;
    });
    assert.equal(counted, 1);
    const { rows } = await test.db.query<{ balance: bigint }>(
      'select balance from demo.account where id = $1',
      ['p1'],
    );
    assert.equal(rows[0]?.balance, 8n);
  });

  it('pipelines statements in order; a failure stops the rest, and outside a transaction undoes all', async () => {
    const insert = 'insert into demo.account (id, balance) values ($1, $2)';
    const results = await test.db.transaction((tx) =>
      tx.pipeline([
        { text: insert, params: ['q1', 10n] },
        {
          text: 'update demo.account set balance = balance + $1 where id = $2 returning balance',
          params: [5n, 'q1'],
        },
        { text: "select count(*)::int8 as n from demo.account where id like 'q%'" },
      ]),
    );
    assert.deepEqual(
      results.map((result) => [result.rowCount, result.rows]),
      [
        [1, []],
        [1, [{ balance: 15n }]],
        [1, [{ n: 1n }]],
      ],
    );
    // Outside a transaction the statements run in one: the failure of the second undoes the first.
    const error = await test.db
      .pipeline([
        { text: insert, params: ['q2', 1n] },
        { text: insert, params: ['q1', 1n] },
        { text: insert, params: ['q3', 1n] },
      ])
      .catch((e: unknown) => e);
    assert.ok(isUniqueViolation(error));
    const left = await test.db.query<{ id: string }>(
      "select id from demo.account where id like 'q%' order by id",
    );
    assert.deepEqual(
      left.rows.map((row) => row.id),
      ['q1'],
    );
  });

  it('commits with the last statement, commits nothing when it fails, and refuses statements after it', async () => {
    const insert = 'insert into demo.account (id, balance) values ($1, $2)';
    const balance = await test.db.transaction(async (tx) => {
      await tx.query(insert, ['c1', 20n]);
      const result = await tx.commitWith<{ balance: bigint }>(
        'update demo.account set balance = balance + $1 where id = $2 returning balance',
        [1n, 'c1'],
      );
      return result.rows[0]?.balance;
    });
    assert.equal(balance, 21n);
    const failed = await test.db
      .transaction(async (tx) => {
        await tx.query(insert, ['c2', 1n]);
        await tx.commitWith(insert, ['c1', 1n]);
      })
      .catch((e: unknown) => e);
    assert.ok(isUniqueViolation(failed));
    await assert.rejects(
      test.db.transaction(async (tx) => {
        await tx.commitWith(insert, ['c3', 3n]);
        await tx.query('select 1');
      }),
      /nothing may follow/,
    );
    const { rows } = await test.db.query<{ id: string; balance: bigint }>(
      "select id, balance from demo.account where id like 'c%' order by id",
    );
    assert.deepEqual(rows, [
      { id: 'c1', balance: 21n },
      { id: 'c3', balance: 3n },
    ]);
  });

  it('prepares a statement again when the pipeline that first sent it failed before reaching it', async (t) => {
    if (!test.url) {
      t.skip('PGlite prepares statements one by one, outside any pipeline');
      return;
    }
    // One connection, so every use below meets the statement cache of the failed pipeline.
    const db = openPostgres({ url: test.url, poolSize: 1 });
    try {
      const fresh = 'select $1::int8 + 1 as next';
      const failing = db.transaction((tx) =>
        tx.pipeline([
          { text: 'select 1 / $1::int8 as boom', params: [0n] },
          { text: fresh, params: [41n] },
        ]),
      );
      await assert.rejects(failing, /division by zero/);
      // The server skipped the second Parse: were it taken as prepared, this would fail with
      // "prepared statement does not exist".
      const again = await db.transaction((tx) => tx.pipeline([{ text: fresh, params: [1n] }]));
      assert.deepEqual(again[0]?.rows, [{ next: 2n }]);
      const plain = await db.query<{ next: bigint }>(fresh, [2n]);
      assert.deepEqual(plain.rows, [{ next: 3n }]);
    } finally {
      await db.close();
    }
  });

  it('fails a transaction whose connection dies, and goes on with a fresh one', async (t) => {
    if (!test.url) {
      t.skip('PGlite has no connection to lose');
      return;
    }
    const db = openPostgres({ url: test.url, poolSize: 2, applicationName: 'croupier-lost' });
    const admin = openPostgres({ url: test.url, poolSize: 1 });
    try {
      const running = db.transaction(async (tx) => {
        await tx.query('select $1::int8 as one', [1n]);
        await tx.pipeline([{ text: 'select pg_sleep(30)' }]);
      });
      const settled = running.then(
        () => 'committed',
        (error: unknown) => (error instanceof Error ? error.message : String(error)),
      );
      // End the backend from outside, as a server restart or an administrator would.
      for (let tries = 0; tries < 100; tries++) {
        const { rows } = await admin.query<{ ended: boolean }>(
          `select pg_terminate_backend(pid) as ended from pg_stat_activity
            where application_name = 'croupier-lost' and query like '%pg_sleep%' and state = 'active'`,
        );
        if (rows.length > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // The transaction fails; the process (this test) lives on and the pool serves again.
      assert.match(await settled, /terminat/);
      const { rows } = await db.query<{ one: bigint }>('select $1::int8 as one', [1n]);
      assert.deepEqual(rows, [{ one: 1n }]);
      assert.equal(await db.transaction(async (tx) => (await tx.query('select 2 as two')).rows.length), 1);
    } finally {
      await db.close();
      await admin.close();
    }
  });

  it('opens transactions at the requested isolation level', async () => {
    const level = await test.db.transaction(
      async (tx) =>
        (await tx.query<{ level: string }>('select current_setting($1) as level', ['transaction_isolation']))
          .rows[0]?.level,
      { isolation: 'serializable' },
    );
    assert.equal(level, 'serializable');
    // The level holds when the first statement is a pipeline (BEGIN travels with it), and a
    // transaction that runs no statement at all commits nothing and fails nothing.
    const [piped] = await test.db.transaction(
      (tx) => tx.pipeline([{ text: "select current_setting('transaction_isolation') as level" }]),
      { isolation: 'repeatable read' },
    );
    assert.deepEqual(piped?.rows, [{ level: 'repeatable read' }]);
    assert.equal(await test.db.transaction(async () => 'nothing'), 'nothing');
  });

  it('applies each migration once and refuses an edited one', async () => {
    const again = await migrate(test.db, sets);
    assert.deepEqual(again.applied, []);
    const edited: MigrationSet[] = [
      { scope: 'demo', migrations: [{ ...sets[0]!.migrations[0]!, sql: 'select 1;' }] },
    ];
    await assert.rejects(migrate(test.db, edited), /changed after it was applied/);
  });

  it('rolls back a failing migration whole', async () => {
    const broken: MigrationSet[] = [
      ...sets,
      {
        scope: 'broken',
        migrations: [
          { version: 1, name: 'half', sql: 'create table demo.half (x int); select no_such_function();' },
        ],
      },
    ];
    await assert.rejects(migrate(test.db, broken));
    const { rows } = await test.db.query<{ n: bigint }>(
      "select count(*)::int8 as n from information_schema.tables where table_schema = 'demo' and table_name = 'half'",
    );
    assert.equal(rows[0]?.n, 0n);
  });

  it('applies migrations exactly once when several processes start at the same time', async (t) => {
    if (!test.url) {
      t.skip('parallel starts need PostgreSQL (PGlite is one process)');
      return;
    }
    const pools = Array.from({ length: 4 }, () => openPostgres({ url: test.url!, poolSize: 2 }));
    try {
      const parallel: MigrationSet[] = [
        {
          scope: 'parallel',
          migrations: [
            { version: 1, name: 'init', sql: 'create schema parallel; create table parallel.t (x int);' },
          ],
        },
      ];
      const reports = await Promise.all(pools.map((db) => migrate(db, parallel)));
      assert.equal(
        reports.reduce((sum, report) => sum + report.applied.length, 0),
        1,
      );
    } finally {
      await Promise.all(pools.map((db) => db.close()));
    }
  });
});

describe('migration files', () => {
  it('loads NNNN_name.sql in order and refuses gaps and bad names', () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'croupier-mig-'));
    try {
      writeFileSync(path.join(folder, '0002_second.sql'), 'select 2;');
      writeFileSync(path.join(folder, '0001_first.sql'), 'select 1;');
      assert.deepEqual(
        loadMigrations(folder).map((m) => [m.version, m.name]),
        [
          [1, 'first'],
          [2, 'second'],
        ],
      );
      writeFileSync(path.join(folder, '0004_gap.sql'), 'select 4;');
      assert.throws(() => loadMigrations(folder), /without gaps/);
      rmSync(path.join(folder, '0004_gap.sql'));
      writeFileSync(path.join(folder, '3_bad.sql'), 'select 3;');
      assert.throws(() => loadMigrations(folder), /NNNN_name/);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe('PGlite statistics', () => {
  it('analyzes grown tables, so a cached plan made while a table was small does not stay', async () => {
    const db = await openPglite({ dataDir: undefined });
    try {
      await db.exec(`create table grow (id text primary key, v text);
                     insert into grow select g::text, 'x' from generate_series(1, 20) g;
                     set plan_cache_mode = force_generic_plan;
                     prepare lookup(text[]) as select g.* from unnest($1::text[]) u(x) join grow g on g.id = u.x`);
      const plan = async (): Promise<string> =>
        (await db.query<{ 'QUERY PLAN': string }>("explain execute lookup('{1,2}')")).rows
          .map((row) => row['QUERY PLAN'])
          .join('\n');
      assert.match(await plan(), /Seq Scan on grow/, 'small: a scan is cheapest');
      await db.exec("insert into grow select g::text, 'x' from generate_series(21, 50000) g");
      assert.match(await plan(), /Seq Scan on grow/, 'grown but not analyzed: the cached plan stays');
      assert.deepEqual(await analyzeGrownTables(db), ['grow']);
      assert.match(await plan(), /Index Scan using grow_pkey/, 'analyzed: planned again, with the index');
      assert.deepEqual(await analyzeGrownTables(db), [], 'nothing grew since');
    } finally {
      await db.close();
    }
  });
});

describe('PGlite data folder', () => {
  it("keeps a second opener out while the first holds it, and takes over a dead owner's lock", async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'croupier-lock-'));
    try {
      const first = await openPglite({ dataDir: folder });
      await assert.rejects(openPglite({ dataDir: folder }), /in use by process/);
      await first.close();
      // A lock naming a process that no longer exists (as after SIGKILL) does not block a start.
      writeFileSync(path.join(folder, 'croupier.lock'), '2147483646');
      const second = await openPglite({ dataDir: folder });
      await second.close();
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('syncs a commit to disk before acknowledging it: fsync on, WAL and data files fsynced', async (t) => {
    const folder = mkdtempSync(path.join(tmpdir(), 'croupier-fsync-'));
    try {
      const db = await openPglite({ dataDir: folder });
      try {
        const { rows } = await db.query<{ fsync: string; method: string }>(
          "select current_setting('fsync') as fsync, current_setting('wal_sync_method') as method",
        );
        assert.deepEqual(rows[0], { fsync: 'on', method: 'fsync' });
        await migrate(db, sets);
        const fsyncs = t.mock.method(fs, 'fsyncSync');
        await db.transaction(async (tx) => {
          await tx.query('insert into demo.account (id, balance) values ($1, $2)', ['synced', 1n]);
          assert.equal(fsyncs.mock.callCount(), 0, 'nothing is synced before the commit');
        });
        assert.ok(fsyncs.mock.callCount() >= 1, 'the commit reached the disk');
      } finally {
        await db.close();
      }
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('keeps committed data across a close and reopen', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'croupier-pglite-'));
    mkdirSync(folder, { recursive: true });
    try {
      const first = await openPglite({ dataDir: folder });
      await migrate(first, sets);
      await first.query('insert into demo.account (id, balance) values ($1, $2)', ['kept', 42n]);
      await first.close();
      const second = await openPglite({ dataDir: folder });
      const { rows } = await second.query<{ balance: bigint }>(
        'select balance from demo.account where id = $1',
        ['kept'],
      );
      assert.equal(rows[0]?.balance, 42n);
      await second.close();
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
