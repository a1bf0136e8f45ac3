// Players: search, and one player's record (details, balances, limits, statement, rounds with
// recall, audit trail) with the actions of contract §4 the operator's role may take.
import { useState } from 'react';
import type { FormEvent } from 'react';
import { formatDateTime, humanize } from '../../shared/format.ts';
import { RoundCells, RoundsTable, StatementTable } from '../../shared/history.tsx';
import type { Round, RoundDetail, Transaction } from '../../shared/history.tsx';
import { AmountField } from '../../shared/forms.tsx';
import { currencyScale, formatMoney, validAmount } from '../../shared/money.ts';
import { Link, navigate } from '../../shared/router.tsx';
import {
  Alert,
  Badge,
  ErrorAlert,
  Field,
  Loading,
  Section,
  SelectField,
  useAction,
  useLoad,
} from '../../shared/ui.tsx';
import { base, useBackOffice } from '../context.ts';

export interface PlayerJson {
  playerId: string;
  email: string;
  firstName: string;
  lastName: string;
  dateOfBirth: string;
  country: string;
  currency: string;
  status: string;
  operatorStatus: string;
  restrictedUntil: string | null;
  kycStatus: string;
  realityCheckMinutes: number | null;
  marketingAllowed: boolean;
  createdAt: string;
}

interface PlayerDetail extends PlayerJson {
  balances: { cash: string; bonus: string; pendingWithdrawal: string; withdrawable: string };
  limits: {
    kind: string;
    period: string;
    amount: string | null;
    pendingAmount?: string | null;
    effectiveAt?: string;
  }[];
}

export function statusTone(status: string): 'good' | 'bad' | 'warn' | 'neutral' {
  if (status === 'active' || status === 'verified') return 'good';
  if (status === 'closed' || status === 'rejected' || status === 'suspended' || status === 'locked')
    return 'bad';
  return 'warn';
}

export function PlayersPage() {
  const { session } = useBackOffice();
  const [query, setQuery] = useState(() => new URLSearchParams(window.location.search).get('query') ?? '');
  const [submitted, setSubmitted] = useState(query);
  const players = useLoad(
    (signal) =>
      session.api<{ items: PlayerJson[]; nextCursor: string | null }>(
        'GET',
        `/admin/v1/players?limit=50${submitted ? `&query=${encodeURIComponent(submitted)}` : ''}`,
        undefined,
        { signal },
      ),
    `players-${submitted}`,
  );
  const search = (event: FormEvent) => {
    event.preventDefault();
    const text = query.trim();
    setSubmitted(text);
    window.history.replaceState(
      null,
      '',
      text ? `${base}/players?query=${encodeURIComponent(text)}` : `${base}/players`,
    );
  };
  return (
    <>
      <h1>Players</h1>
      <form className="filters" role="search" onSubmit={search}>
        <Field
          label="Search by email, name or player id"
          name="query"
          type="search"
          value={query}
          onChange={(event) => setQuery(event.target.value)}
        />
        <button type="submit">Search</button>
      </form>
      <ErrorAlert error={players.error} />
      {!players.data ? (
        <Loading />
      ) : players.data.items.length === 0 ? (
        <p className="muted">No players match.</p>
      ) : (
        <div className="table-wrap card">
          <table data-testid="players">
            <caption className="sr-only">Players, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Player</th>
                <th scope="col">Email</th>
                <th scope="col">Status</th>
                <th scope="col">KYC</th>
                <th scope="col">Country</th>
                <th scope="col">Registered</th>
              </tr>
            </thead>
            <tbody>
              {players.data.items.map((player) => (
                <tr key={player.playerId}>
                  <td>
                    <Link to={`${base}/players/${player.playerId}`}>
                      {player.firstName} {player.lastName}
                    </Link>
                  </td>
                  <td>{player.email}</td>
                  <td>
                    <Badge tone={statusTone(player.status)}>{humanize(player.status)}</Badge>
                  </td>
                  <td>
                    <Badge tone={statusTone(player.kycStatus)}>{humanize(player.kycStatus)}</Badge>
                  </td>
                  <td>{player.country}</td>
                  <td>{formatDateTime(player.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

export function PlayerPage(props: { playerId: string }) {
  const { session, can } = useBackOffice();
  const [version, setVersion] = useState(0);
  const id = encodeURIComponent(props.playerId);
  const player = useLoad(
    (signal) => session.api<PlayerDetail>('GET', `/admin/v1/players/${id}`, undefined, { signal }),
    `${id}-${version}`,
  );
  const changed = () => setVersion((value) => value + 1);
  const data = player.data;
  return (
    <>
      <p>
        <Link to={`${base}/players`}>All players</Link>
      </p>
      <h1>{data ? `${data.firstName} ${data.lastName}` : 'Player'}</h1>
      <ErrorAlert error={player.error} />
      {!data ? (
        player.error ? null : (
          <Loading />
        )
      ) : (
        <>
          <div className="grid-2">
            <Section title="Details">
              <dl className="facts">
                <dt>Email</dt>
                <dd>{data.email}</dd>
                <dt>Born</dt>
                <dd>{data.dateOfBirth}</dd>
                <dt>Country, currency</dt>
                <dd>
                  {data.country} · {data.currency}
                </dd>
                <dt>Status</dt>
                <dd>
                  <Badge tone={statusTone(data.status)}>
                    <span data-testid="player-status">{humanize(data.status)}</span>
                  </Badge>
                  {data.restrictedUntil ? ` until ${formatDateTime(data.restrictedUntil)}` : ''}
                  {data.operatorStatus !== data.status
                    ? ` (operator status: ${humanize(data.operatorStatus)})`
                    : ''}
                </dd>
                <dt>KYC</dt>
                <dd>
                  <Badge tone={statusTone(data.kycStatus)}>
                    <span data-testid="player-kyc">{humanize(data.kycStatus)}</span>
                  </Badge>
                </dd>
                <dt>Reality check</dt>
                <dd>{data.realityCheckMinutes ? `every ${data.realityCheckMinutes} min` : 'off'}</dd>
                <dt>Marketing</dt>
                <dd>{data.marketingAllowed ? 'allowed' : 'not allowed'}</dd>
                <dt>Registered</dt>
                <dd>{formatDateTime(data.createdAt)}</dd>
                <dt>Player id</dt>
                <dd className="mono">{data.playerId}</dd>
              </dl>
            </Section>
            <Section title="Balances and limits">
              <dl className="facts">
                <dt>Cash</dt>
                <dd className="amount" data-testid="player-cash">
                  {formatMoney(data.balances.cash, data.currency)}
                </dd>
                <dt>Bonus</dt>
                <dd className="amount">{formatMoney(data.balances.bonus, data.currency)}</dd>
                <dt>Pending withdrawal</dt>
                <dd className="amount">{formatMoney(data.balances.pendingWithdrawal, data.currency)}</dd>
                <dt>Withdrawable</dt>
                <dd className="amount">{formatMoney(data.balances.withdrawable, data.currency)}</dd>
              </dl>
              <h3>Limits</h3>
              {data.limits.length === 0 ? (
                <p className="muted">No limits.</p>
              ) : (
                <ul>
                  {data.limits.map((limit) => (
                    <li key={`${limit.kind}-${limit.period}`}>
                      {humanize(limit.kind)} per {limit.period}:{' '}
                      {limit.amount === null ? 'none' : formatMoney(limit.amount, data.currency)}
                      {limit.effectiveAt
                        ? ` (→ ${limit.pendingAmount ? formatMoney(limit.pendingAmount, data.currency) : 'none'} from ${formatDateTime(limit.effectiveAt)})`
                        : ''}
                    </li>
                  ))}
                </ul>
              )}
            </Section>
          </div>
          {can('players.kyc') || can('players.status') || can('players.adjust') ? (
            <div className="grid-2">
              {can('players.kyc') ? <KycForm player={data} onDone={changed} /> : null}
              {can('players.status') ? <StatusForm player={data} onDone={changed} /> : null}
              {can('players.adjust') ? <AdjustmentForm player={data} onDone={changed} /> : null}
            </div>
          ) : null}
          <Statement playerId={data.playerId} currency={data.currency} version={version} />
          <Rounds playerId={data.playerId} />
          {can('audit.read') ? <PlayerAudit playerId={data.playerId} version={version} /> : null}
        </>
      )}
    </>
  );
}

function ReasonField(props: { value: string; onChange: (value: string) => void; name: string }) {
  return (
    <div className="field">
      <label htmlFor={props.name}>Reason (kept in the audit log)</label>
      <textarea
        id={props.name}
        name={props.name}
        required
        value={props.value}
        onChange={(event) => props.onChange(event.target.value)}
      />
    </div>
  );
}

function KycForm(props: { player: PlayerDetail; onDone: () => void }) {
  return (
    <ReasonedStatusForm
      playerId={props.player.playerId}
      onDone={props.onDone}
      title="Identity verification (KYC)"
      path="kyc"
      initial={props.player.kycStatus === 'verified' ? 'rejected' : 'verified'}
      statuses={['verified', 'rejected', 'pending', 'unverified']}
      selectLabel="New KYC status"
      selectName="kyc-status"
      reasonName="kyc-reason"
      submitLabel="Set KYC status"
      doneText={(status) => `KYC set to ${humanize(status)}.`}
    />
  );
}

function StatusForm(props: { player: PlayerDetail; onDone: () => void }) {
  return (
    <ReasonedStatusForm
      playerId={props.player.playerId}
      onDone={props.onDone}
      title="Account status"
      hint="A player’s own time-out or self-exclusion stays in force whatever is set here."
      path="status"
      initial={props.player.operatorStatus === 'active' ? 'suspended' : 'active'}
      statuses={['active', 'locked', 'suspended', 'closed']}
      selectLabel="New status"
      selectName="operator-status"
      reasonName="status-reason"
      submitLabel="Set status"
      doneText={(status) => `Status set to ${humanize(status)}.`}
    />
  );
}

/** Sets one of `statuses` with PUT /admin/v1/players/{id}/{path}, with a reason for the audit log. */
function ReasonedStatusForm(props: {
  playerId: string;
  onDone: () => void;
  title: string;
  hint?: string;
  path: string;
  initial: string;
  statuses: readonly string[];
  selectLabel: string;
  selectName: string;
  reasonName: string;
  submitLabel: string;
  doneText: (status: string) => string;
}) {
  const { session } = useBackOffice();
  const [status, setStatus] = useState(props.initial);
  const [reason, setReason] = useState('');
  const [done, setDone] = useState<string | undefined>(undefined);
  const action = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setDone(undefined);
    const result = await action.run(() =>
      session.api('PUT', `/admin/v1/players/${encodeURIComponent(props.playerId)}/${props.path}`, {
        status,
        reason: reason.trim(),
      }),
    );
    if (result !== undefined) {
      setDone(props.doneText(status));
      setReason('');
      props.onDone();
    }
  };
  return (
    <Section title={props.title}>
      {props.hint ? <p className="hint">{props.hint}</p> : null}
      <form onSubmit={(event) => void submit(event)}>
        <ErrorAlert error={action.error} />
        {done ? <Alert tone="success">{done}</Alert> : null}
        <SelectField
          label={props.selectLabel}
          name={props.selectName}
          options={props.statuses.map((value) => ({ value, label: humanize(value) }))}
          value={status}
          onChange={(event) => setStatus(event.target.value)}
        />
        <ReasonField name={props.reasonName} value={reason} onChange={setReason} />
        <button type="submit" disabled={action.busy || reason.trim() === ''}>
          {props.submitLabel}
        </button>
      </form>
    </Section>
  );
}

function AdjustmentForm(props: { player: PlayerDetail; onDone: () => void }) {
  const { session } = useBackOffice();
  const [amount, setAmount] = useState('');
  const [direction, setDirection] = useState('credit');
  const [reason, setReason] = useState('');
  const [key, setKey] = useState(() => crypto.randomUUID());
  const [done, setDone] = useState<string | undefined>(undefined);
  const [invalid, setInvalid] = useState(false);
  const action = useAction();
  const currency = props.player.currency;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setDone(undefined);
    if (!validAmount(amount, currencyScale(currency))) {
      setInvalid(true);
      return;
    }
    setInvalid(false);
    // One key per intended adjustment: a double click or a retry moves the money once.
    const result = await action.run(() =>
      session.api<{ transferId: string }>(
        'POST',
        `/admin/v1/players/${encodeURIComponent(props.player.playerId)}/adjustments`,
        { amount: amount.trim(), currency, direction, reason: reason.trim() },
        { headers: { 'idempotency-key': key } },
      ),
    );
    if (result) {
      setDone(`${humanize(direction)} of ${formatMoney(amount.trim(), currency)} done.`);
      setAmount('');
      setReason('');
      setKey(crypto.randomUUID());
      props.onDone();
    }
  };
  return (
    <Section title="Balance adjustment">
      <form onSubmit={(event) => void submit(event)}>
        <ErrorAlert error={action.error} />
        {invalid ? <Alert tone="error">Enter an amount such as 10.00.</Alert> : null}
        {done ? <Alert tone="success">{done}</Alert> : null}
        <div className="row">
          <AmountField currency={currency} name="adjust-amount" value={amount} onValue={setAmount} />
          <SelectField
            label="Direction"
            name="adjust-direction"
            options={[
              { value: 'credit', label: 'Credit (add)' },
              { value: 'debit', label: 'Debit (take)' },
            ]}
            value={direction}
            onChange={(event) => setDirection(event.target.value)}
          />
        </div>
        <ReasonField name="adjust-reason" value={reason} onChange={setReason} />
        <button type="submit" disabled={action.busy || reason.trim() === ''}>
          Make adjustment
        </button>
      </form>
    </Section>
  );
}

interface StatementItem extends Transaction {
  actor?: string;
  reason?: string;
}

function Statement(props: { playerId: string; currency: string; version: number }) {
  const { session } = useBackOffice();
  const statement = useLoad(
    (signal) =>
      session.api<{ items: StatementItem[] }>(
        'GET',
        `/admin/v1/players/${encodeURIComponent(props.playerId)}/transactions?limit=50`,
        undefined,
        { signal },
      ),
    `${props.playerId}-${props.version}`,
  );
  return (
    <Section title="Statement (cash)">
      <ErrorAlert error={statement.error} />
      {!statement.data ? (
        statement.error ? null : (
          <Loading />
        )
      ) : statement.data.items.length === 0 ? (
        <p className="muted">No transactions.</p>
      ) : (
        <StatementTable
          testId="statement"
          kindColumn="Kind"
          lastColumn="Note"
          currency={props.currency}
          items={statement.data.items}
          last={(item) => item.reason ?? (item.roundId ? `round ${item.roundId.slice(0, 8)}…` : '')}
        />
      )}
    </Section>
  );
}

function Rounds(props: { playerId: string }) {
  const { session } = useBackOffice();
  const [open, setOpen] = useState<string | undefined>(undefined);
  const rounds = useLoad(
    (signal) =>
      session.api<{ items: Round[] }>(
        'GET',
        `/admin/v1/players/${encodeURIComponent(props.playerId)}/rounds?limit=50`,
        undefined,
        {
          signal,
        },
      ),
    props.playerId,
  );
  return (
    <Section title="Game rounds">
      <ErrorAlert error={rounds.error} />
      {!rounds.data ? (
        rounds.error ? null : (
          <Loading />
        )
      ) : rounds.data.items.length === 0 ? (
        <p className="muted">No rounds.</p>
      ) : (
        <RoundsTable
          testId="player-rounds"
          lastColumn="Recall"
          items={rounds.data.items}
          row={(round) => (
            <RoundRow
              key={round.roundId}
              playerId={props.playerId}
              round={round}
              open={open === round.roundId}
              onToggle={() => setOpen(open === round.roundId ? undefined : round.roundId)}
            />
          )}
        />
      )}
    </Section>
  );
}

function RoundRow(props: { playerId: string; round: Round; open: boolean; onToggle: () => void }) {
  const { round } = props;
  return (
    <>
      <tr>
        <RoundCells round={round} status={humanize(round.status)} />
        <td>
          <button
            type="button"
            className="small secondary"
            aria-expanded={props.open}
            onClick={props.onToggle}
          >
            {props.open ? 'Hide' : 'Show'}
            <span className="sr-only"> the round of {formatDateTime(round.openedAt)}</span>
          </button>
        </td>
      </tr>
      {props.open ? (
        <tr>
          <td colSpan={6}>
            <RoundRecall playerId={props.playerId} roundId={round.roundId} />
          </td>
        </tr>
      ) : null}
    </>
  );
}

function RoundRecall(props: { playerId: string; roundId: string }) {
  const { session } = useBackOffice();
  const round = useLoad(
    (signal) =>
      session.api<RoundDetail>(
        'GET',
        `/admin/v1/players/${encodeURIComponent(props.playerId)}/rounds/${encodeURIComponent(props.roundId)}`,
        undefined,
        { signal },
      ),
    props.roundId,
  );
  if (round.error) return <ErrorAlert error={round.error} />;
  if (!round.data) return <Loading />;
  return (
    <div>
      <p className="mono">
        {round.data.providerId} round {round.data.providerRoundId} · platform round {round.data.roundId}
      </p>
      <ul>
        {round.data.transactions.map((item) => (
          <li key={item.platformTransactionId}>
            {formatDateTime(item.createdAt)}: {item.kind}{' '}
            {formatMoney(item.amount, round.data?.currency ?? '')} ({item.status}
            {item.code ? `, ${item.code}` : ''}) <span className="mono">{item.transactionId}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

export interface AuditItem {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string;
  before: unknown;
  after: unknown;
  reason: string | null;
}

export function AuditTable(props: { items: AuditItem[]; testId?: string }) {
  return (
    <div className="table-wrap">
      <table data-testid={props.testId}>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">What</th>
            <th scope="col">On</th>
            <th scope="col">Why</th>
            <th scope="col">Change</th>
          </tr>
        </thead>
        <tbody>
          {props.items.map((item) => (
            <tr key={item.id}>
              <td>{formatDateTime(item.at)}</td>
              <td className="mono">{item.actor}</td>
              <td>{item.action}</td>
              <td className="mono">
                {item.target.startsWith('player:') ? (
                  <Link to={`${base}/players/${item.target.slice('player:'.length)}`}>{item.target}</Link>
                ) : (
                  item.target
                )}
              </td>
              <td>{item.reason ?? '—'}</td>
              <td>
                <details>
                  <summary>Before and after</summary>
                  <pre className="json">{JSON.stringify(item.before, null, 1)}</pre>
                  <pre className="json">{JSON.stringify(item.after, null, 1)}</pre>
                </details>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function PlayerAudit(props: { playerId: string; version: number }) {
  const { session } = useBackOffice();
  const audit = useLoad(
    (signal) =>
      session.api<{ items: AuditItem[]; complete: boolean; scanned: number }>(
        'GET',
        `/admin/v1/players/${encodeURIComponent(props.playerId)}/audit`,
        undefined,
        { signal },
      ),
    `${props.playerId}-${props.version}`,
  );
  return (
    <Section title="Audit trail">
      <ErrorAlert error={audit.error} />
      {!audit.data ? (
        audit.error ? null : (
          <Loading />
        )
      ) : audit.data.items.length === 0 ? (
        <p className="muted">No audit rows about this player.</p>
      ) : (
        <AuditTable items={audit.data.items} testId="player-audit" />
      )}
      {audit.data && !audit.data.complete ? (
        <p className="hint">
          Only the newest {audit.data.scanned} rows of the log were searched; see the audit log for older
          ones.
        </p>
      ) : null}
    </Section>
  );
}

export function goToPlayer(playerId: string): void {
  navigate(`${base}/players/${encodeURIComponent(playerId)}`);
}
