// UUIDv7 (RFC 9562): time-ordered ids, so primary keys index in insertion order and an id says
// when it was made. Monotonic within one process: ids made in the same millisecond still sort
// in creation order (the 12-bit rand_a field is used as a counter, method 1 of RFC 9562 §6.2).
import { randomFillSync } from 'node:crypto';

let lastMs = -1;
let counter = 0;

// Random bytes are drawn from the CSPRNG 4 KiB at a time (256 ids), as crypto.randomUUID does:
// one randomBytes(16) call per id was most of an id's cost, and ids are made on every provider
// call, outbox event and HTTP request.
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let poolOffset = POOL_BYTES;

function random16(): Buffer {
  if (poolOffset + 16 > POOL_BYTES) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  // A copy: the pool is refilled in place later, and the id is built in these bytes.
  const bytes = Buffer.from(pool.subarray(poolOffset, poolOffset + 16));
  poolOffset += 16;
  return bytes;
}

export function uuidv7(nowMs: number = Date.now()): string {
  const bytes = random16();
  let ms = nowMs;
  if (ms <= lastMs) {
    // Same millisecond (or a clock that stepped back): keep order by counting up, and borrow
    // the next millisecond when the counter is spent.
    ms = lastMs;
    counter += 1;
    if (counter > 0xfff) {
      ms += 1;
      counter = 0;
    }
  } else {
    counter = (bytes[6]! & 0x07) << 8; // start low in the range so the counter has room
  }
  lastMs = ms;
  const high = Math.floor(ms / 2 ** 16);
  bytes[0] = (high >>> 24) & 0xff;
  bytes[1] = (high >>> 16) & 0xff;
  bytes[2] = (high >>> 8) & 0xff;
  bytes[3] = high & 0xff;
  bytes[4] = (ms >>> 8) & 0xff;
  bytes[5] = ms & 0xff;
  bytes[6] = 0x70 | ((counter >>> 8) & 0x0f);
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function isUuid(value: string): boolean {
  return UUID_RE.test(value);
}

/** Milliseconds encoded in a UUIDv7. */
export function uuidv7Time(id: string): number {
  return Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16);
}

// Client-chosen ids (api-contract.md §0): 1–128 characters, no control characters; anything
// else (quotes, Unicode) is legal and compared exactly.
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/;

export const externalIdLengthMax = 128;

/** True when the text holds a C0 or C1 control character (never allowed in an id). */
export function hasControlCharacter(value: string): boolean {
  return CONTROL_RE.test(value);
}

export function isExternalId(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length >= 1 &&
    [...value].length <= externalIdLengthMax &&
    !hasControlCharacter(value)
  );
}
