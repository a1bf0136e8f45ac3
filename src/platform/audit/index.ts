// The append-only operator audit trail each context keeps in its own schema (GLI-19).
export { auditMigrationSet, auditPage, auditPageLimitMax, mergeAuditPages, recordAudit } from './audit.ts';
export type { AuditEntry, NewAuditEntry } from './audit.ts';
