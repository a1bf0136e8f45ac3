// Game rounds and cash statements as both apps show them: the shapes the APIs answer with and
// the tables that list them (each app adds its own last column: a link, a recall, a note).
import type { ReactNode } from 'react';
import { formatDateTime, humanize } from './format.ts';
import { formatMoney, isNegative } from './money.ts';

export interface Round {
  roundId: string;
  providerId: string;
  providerRoundId: string;
  gameId: string;
  currency: string;
  status: string;
  totalBet: string;
  totalWin: string;
  openedAt: string;
  closedAt?: string;
  closedBy?: string;
}

export interface RoundDetail extends Round {
  transactions: {
    transactionId: string;
    platformTransactionId: string;
    kind: string;
    amount: string;
    status: string;
    code?: string;
    referenceTransactionId?: string;
    createdAt: string;
  }[];
}

/** One line of a cash statement. */
export interface Transaction {
  id: string;
  kind: string;
  amount: string;
  balanceAfter: string;
  createdAt: string;
  roundId?: string;
}

/** A round table: Started, Game, Stake, Returned, Status and the caller's last column. */
export function RoundsTable<R extends Round>(props: {
  testId: string;
  caption?: string;
  lastColumn: string;
  items: readonly R[];
  row: (round: R) => ReactNode;
}) {
  return (
    <Table testId={props.testId} caption={props.caption}>
      <thead>
        <tr>
          <th scope="col">Started</th>
          <th scope="col">Game</th>
          <th scope="col" className="num">
            Stake
          </th>
          <th scope="col" className="num">
            Returned
          </th>
          <th scope="col">Status</th>
          <th scope="col">{props.lastColumn}</th>
        </tr>
      </thead>
      <tbody>{props.items.map(props.row)}</tbody>
    </Table>
  );
}

/** The first five cells of a round's row; `status` is what the Status cell shows. */
export function RoundCells(props: { round: Round; status: ReactNode }) {
  const { round } = props;
  return (
    <>
      <td>{formatDateTime(round.openedAt)}</td>
      <td>{round.gameId}</td>
      <td className="num amount">{formatMoney(round.totalBet, round.currency)}</td>
      <td className="num amount">{formatMoney(round.totalWin, round.currency)}</td>
      <td>{props.status}</td>
    </>
  );
}

/** A cash statement: Date, the kind, Amount, Balance after and the caller's last column. */
export function StatementTable<T extends Transaction>(props: {
  testId: string;
  caption?: string;
  kindColumn: string;
  lastColumn: string;
  currency: string;
  items: readonly T[];
  last: (item: T) => ReactNode;
}) {
  return (
    <Table testId={props.testId} caption={props.caption}>
      <thead>
        <tr>
          <th scope="col">Date</th>
          <th scope="col">{props.kindColumn}</th>
          <th scope="col" className="num">
            Amount
          </th>
          <th scope="col" className="num">
            Balance after
          </th>
          <th scope="col">{props.lastColumn}</th>
        </tr>
      </thead>
      <tbody>
        {props.items.map((item) => (
          <tr key={`${item.id}-${item.createdAt}`}>
            <td>{formatDateTime(item.createdAt)}</td>
            <td>{humanize(item.kind)}</td>
            <td className={`num amount ${isNegative(item.amount) ? 'negative' : 'positive'}`}>
              {formatMoney(item.amount, props.currency)}
            </td>
            <td className="num amount">{formatMoney(item.balanceAfter, props.currency)}</td>
            <td>{props.last(item)}</td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}

function Table(props: { testId: string; caption?: string | undefined; children: ReactNode }) {
  return (
    <div className="table-wrap">
      <table data-testid={props.testId}>
        {props.caption ? <caption className="sr-only">{props.caption}</caption> : null}
        {props.children}
      </table>
    </div>
  );
}
