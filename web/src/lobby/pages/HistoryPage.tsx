// The cash statement and the game rounds, newest first, with each round's full record (recall).
import { useEffect, useState } from 'react';
import type { ReactNode } from 'react';
import { formatDateTime, humanize } from '../../shared/format.ts';
import { RoundCells, RoundsTable, StatementTable } from '../../shared/history.tsx';
import { formatMoney } from '../../shared/money.ts';
import { Link } from '../../shared/router.tsx';
import { Badge, ErrorAlert, Loading, Section, useLoad } from '../../shared/ui.tsx';
import { useLobby } from '../context.ts';
import type { Round, RoundDetail, Transaction } from '../types.ts';

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** First page on every version change; "Load more" appends older pages. */
function usePaged<T>(url: string, version: string) {
  const { session } = useLobby();
  const first = useLoad(
    (signal) => session.api<Page<T>>('GET', `${url}?limit=20`, undefined, signal),
    `${url}-${version}`,
  );
  const [more, setMore] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  useEffect(() => {
    setMore([]);
    setCursor(first.data?.nextCursor ?? null);
  }, [first.data]);
  const loadMore = async () => {
    if (!cursor) return;
    try {
      const page = await session.api<Page<T>>('GET', `${url}?limit=20&cursor=${encodeURIComponent(cursor)}`);
      setMore((current) => [...current, ...page.items]);
      setCursor(page.nextCursor);
    } catch (failure) {
      setError(failure);
    }
  };
  return {
    items: first.data ? [...first.data.items, ...more] : undefined,
    error: first.error ?? error,
    cursor,
    loadMore,
  };
}

/** A section listing one paged list, with its error, its empty state and a "Load more" button. */
function PagedSection<T>(props: {
  title: string;
  list: ReturnType<typeof usePaged<T>>;
  empty: string;
  more: string;
  children: (items: T[]) => ReactNode;
}) {
  const { list } = props;
  return (
    <Section title={props.title}>
      <ErrorAlert error={list.error} />
      {!list.items ? (
        <Loading />
      ) : list.items.length === 0 ? (
        <p className="muted">{props.empty}</p>
      ) : (
        props.children(list.items)
      )}
      {list.cursor ? (
        <button type="button" className="secondary" onClick={() => void list.loadMore()}>
          {props.more}
        </button>
      ) : null}
    </Section>
  );
}

export function HistoryPage() {
  const { versions, wallet } = useLobby();
  const currency = wallet?.currency ?? 'EUR';
  const transactions = usePaged<Transaction>(
    '/api/v1/wallet/transactions',
    `${versions.rounds}-${versions.payments}`,
  );
  const rounds = usePaged<Round>('/api/v1/rounds', String(versions.rounds));
  return (
    <>
      <h1>History</h1>
      <PagedSection title="Game rounds" list={rounds} empty="No rounds yet." more="Load older rounds">
        {(items) => (
          <RoundsTable
            testId="rounds"
            caption="Your game rounds, newest first"
            lastColumn="Record"
            items={items}
            row={(round) => (
              <tr key={round.roundId}>
                <RoundCells
                  round={round}
                  status={
                    <Badge tone={round.status === 'closed' ? 'neutral' : 'warn'}>
                      {humanize(round.status)}
                    </Badge>
                  }
                />
                <td>
                  <Link to={`/history/rounds/${encodeURIComponent(round.roundId)}`}>
                    Details
                    <span className="sr-only"> of the round of {formatDateTime(round.openedAt)}</span>
                  </Link>
                </td>
              </tr>
            )}
          />
        )}
      </PagedSection>
      <PagedSection
        title="Transactions"
        list={transactions}
        empty="No transactions yet."
        more="Load older transactions"
      >
        {(items) => (
          <StatementTable
            testId="transactions"
            caption="Your cash transactions, newest first"
            kindColumn="Type"
            lastColumn="Round"
            currency={currency}
            items={items}
            last={(item) =>
              item.roundId ? (
                <Link to={`/history/rounds/${encodeURIComponent(item.roundId)}`}>
                  Round<span className="sr-only"> of this transaction</span>
                </Link>
              ) : (
                ''
              )
            }
          />
        )}
      </PagedSection>
    </>
  );
}

export function RoundPage(props: { roundId: string }) {
  const { session } = useLobby();
  const round = useLoad(
    (signal) =>
      session.api<RoundDetail>(
        'GET',
        `/api/v1/rounds/${encodeURIComponent(props.roundId)}`,
        undefined,
        signal,
      ),
    props.roundId,
  );
  return (
    <>
      <div className="play-head">
        <h1>Round record</h1>
        <Link to="/history">Back to history</Link>
      </div>
      <ErrorAlert error={round.error} />
      {round.data ? <RoundRecord round={round.data} /> : round.error ? null : <Loading />}
    </>
  );
}

export function RoundRecord(props: { round: RoundDetail }) {
  const { round } = props;
  return (
    <>
      <Section title={`${round.gameId} · ${formatDateTime(round.openedAt)}`}>
        <dl className="facts">
          <dt>Round</dt>
          <dd className="mono">{round.roundId}</dd>
          <dt>Provider and its round id</dt>
          <dd className="mono">
            {round.providerId} · {round.providerRoundId}
          </dd>
          <dt>Stake</dt>
          <dd className="amount">{formatMoney(round.totalBet, round.currency)}</dd>
          <dt>Returned</dt>
          <dd className="amount">{formatMoney(round.totalWin, round.currency)}</dd>
          <dt>Status</dt>
          <dd>
            {humanize(round.status)}
            {round.closedAt ? ` at ${formatDateTime(round.closedAt)}` : ''}
            {round.closedBy ? ` (by ${round.closedBy})` : ''}
          </dd>
        </dl>
      </Section>
      <Section title="Transactions of this round">
        <div className="table-wrap">
          <table data-testid="round-transactions">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Kind</th>
                <th scope="col" className="num">
                  Amount
                </th>
                <th scope="col">Outcome</th>
                <th scope="col">Provider transaction</th>
              </tr>
            </thead>
            <tbody>
              {round.transactions.map((item) => (
                <tr key={item.platformTransactionId}>
                  <td>{formatDateTime(item.createdAt)}</td>
                  <td>{humanize(item.kind)}</td>
                  <td className="num amount">{formatMoney(item.amount, round.currency)}</td>
                  <td>
                    {humanize(item.status)}
                    {item.code ? ` (${item.code})` : ''}
                  </td>
                  <td className="mono">{item.transactionId}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Section>
    </>
  );
}
