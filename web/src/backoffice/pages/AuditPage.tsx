// The audit log of every context, newest first, page by page.
import { useEffect, useState } from 'react';
import { ErrorAlert, Loading, useLoad } from '../../shared/ui.tsx';
import { useBackOffice } from '../context.ts';
import { AuditTable } from './PlayersPage.tsx';
import type { AuditItem } from './PlayersPage.tsx';

export function AuditPage() {
  const { session } = useBackOffice();
  const first = useLoad(
    (signal) =>
      session.api<{ items: AuditItem[]; nextCursor: string | null }>(
        'GET',
        '/admin/v1/audit?limit=50',
        undefined,
        { signal },
      ),
    'audit',
  );
  const [more, setMore] = useState<AuditItem[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  useEffect(() => {
    setMore([]);
    setCursor(first.data?.nextCursor ?? null);
  }, [first.data]);
  const loadMore = async () => {
    if (!cursor) return;
    try {
      const page = await session.api<{ items: AuditItem[]; nextCursor: string | null }>(
        'GET',
        `/admin/v1/audit?limit=50&cursor=${encodeURIComponent(cursor)}`,
      );
      setMore((current) => [...current, ...page.items]);
      setCursor(page.nextCursor);
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <>
      <h1>Audit log</h1>
      <ErrorAlert error={first.error ?? error} />
      {!first.data ? (
        first.error ? null : (
          <Loading />
        )
      ) : (
        <div className="card">
          <AuditTable items={[...first.data.items, ...more]} testId="audit" />
          {cursor ? (
            <button type="button" className="secondary" onClick={() => void loadMore()}>
              Load older entries
            </button>
          ) : null}
        </div>
      )}
    </>
  );
}
