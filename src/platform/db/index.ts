export * from './db.ts';
export * from './migrate.ts';
export { openPglite } from './pglite.ts';
export type { PgliteOptions } from './pglite.ts';
export { openPostgres } from './postgres.ts';
export type { PostgresOptions } from './postgres.ts';
