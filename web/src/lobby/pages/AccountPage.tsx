// The player's details, verification and status, and the login sessions.
import { formatDateTime, humanize } from '../../shared/format.ts';
import { Badge, ErrorAlert, Loading, Section, useLoad } from '../../shared/ui.tsx';
import { useLobby } from '../context.ts';

interface LoginSession {
  sessionId: string;
  createdAt: string;
  lastSeenAt: string;
  endedAt: string | null;
  endReason: string | null;
  ip: string | null;
  current: boolean;
}

export function kycTone(status: string): 'good' | 'bad' | 'warn' | 'neutral' {
  return status === 'verified' ? 'good' : status === 'rejected' ? 'bad' : 'warn';
}

export function AccountPage() {
  const { me, session } = useLobby();
  const sessions = useLoad(
    (signal) => session.api<{ items: LoginSession[] }>('GET', '/api/v1/sessions', undefined, signal),
    'sessions',
  );
  return (
    <>
      <h1>Account</h1>
      {!me ? (
        <Loading />
      ) : (
        <Section title="Your details">
          <dl className="facts">
            <dt>Name</dt>
            <dd>
              {me.firstName} {me.lastName}
            </dd>
            <dt>Email</dt>
            <dd>{me.email}</dd>
            <dt>Country and currency</dt>
            <dd>
              {me.country} · {me.currency}
            </dd>
            <dt>Identity verification</dt>
            <dd>
              <Badge tone={kycTone(me.kycStatus)}>
                <span data-testid="kyc-status">{humanize(me.kycStatus)}</span>
              </Badge>
            </dd>
            <dt>Account status</dt>
            <dd>
              <Badge tone={me.status === 'active' ? 'good' : 'warn'}>
                <span data-testid="account-status">{humanize(me.status)}</span>
              </Badge>
              {me.restrictedUntil ? ` until ${formatDateTime(me.restrictedUntil)}` : ''}
            </dd>
            <dt>Player id</dt>
            <dd className="mono">{me.playerId}</dd>
          </dl>
        </Section>
      )}
      <Section title="Login sessions">
        <ErrorAlert error={sessions.error} />
        {!sessions.data ? (
          <Loading />
        ) : (
          <div className="table-wrap">
            <table>
              <caption className="sr-only">Your login sessions, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Started</th>
                  <th scope="col">Last active</th>
                  <th scope="col">Ended</th>
                  <th scope="col">Address</th>
                </tr>
              </thead>
              <tbody>
                {sessions.data.items.map((item) => (
                  <tr key={item.sessionId}>
                    <td>
                      {formatDateTime(item.createdAt)}
                      {item.current ? ' (this one)' : ''}
                    </td>
                    <td>{formatDateTime(item.lastSeenAt)}</td>
                    <td>
                      {item.endedAt
                        ? `${formatDateTime(item.endedAt)} (${humanize(item.endReason ?? '')})`
                        : '—'}
                    </td>
                    <td>{item.ip ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
    </>
  );
}
