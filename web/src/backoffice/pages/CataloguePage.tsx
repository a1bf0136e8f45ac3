// Game providers and games: their switches and breaker states; admins turn them on and off.
import { useState } from 'react';
import { humanize } from '../../shared/format.ts';
import { Alert, Badge, ErrorAlert, Field, Loading, Section, useAction, useLoad } from '../../shared/ui.tsx';
import { useBackOffice } from '../context.ts';

interface Provider {
  providerId: string;
  name: string;
  enabled: boolean;
  protocol: string;
  breaker: string;
  launchUrlTemplate: string | null;
}

interface Game {
  gameId: string;
  providerId: string;
  name: string;
  type: string;
  rtp: number;
  enabled: boolean;
  gameEnabled: boolean;
}

export function CataloguePage() {
  const { session, can } = useBackOffice();
  const [version, setVersion] = useState(0);
  const [reason, setReason] = useState('');
  const [done, setDone] = useState<string | undefined>(undefined);
  const action = useAction();
  const providers = useLoad(
    (signal) => session.api<{ items: Provider[] }>('GET', '/admin/v1/providers', undefined, { signal }),
    `providers-${version}`,
  );
  const games = useLoad(
    (signal) => session.api<{ items: Game[] }>('GET', '/admin/v1/games', undefined, { signal }),
    `games-${version}`,
  );
  const write = can('catalogue.write');
  const change = async (url: string, enabled: boolean, what: string) => {
    setDone(undefined);
    const result = await action.run(() =>
      session.api('PUT', url, { enabled, ...(reason.trim() ? { reason: reason.trim() } : {}) }),
    );
    if (result !== undefined) {
      setDone(`${what} ${enabled ? 'switched on' : 'switched off'}.`);
      setVersion((value) => value + 1);
    }
  };
  return (
    <>
      <h1>Games and providers</h1>
      {done ? <Alert tone="success">{done}</Alert> : null}
      <ErrorAlert error={action.error} />
      {write ? (
        <Section title="Switches">
          <p className="hint">Switching off stops new bets at once; open rounds may still finish.</p>
          <Field
            label="Reason for switch changes (optional, kept in the audit log)"
            name="switch-reason"
            value={reason}
            onChange={(event) => setReason(event.target.value)}
          />
          <div className="actions">
            <button
              type="button"
              className="danger"
              disabled={action.busy}
              onClick={() => void change('/admin/v1/gaming', false, 'All gaming')}
            >
              Stop all gaming
            </button>
            <button
              type="button"
              className="secondary"
              disabled={action.busy}
              onClick={() => void change('/admin/v1/gaming', true, 'All gaming')}
            >
              Resume all gaming
            </button>
          </div>
        </Section>
      ) : null}
      <Section title="Providers">
        <ErrorAlert error={providers.error} />
        {!providers.data ? (
          providers.error ? null : (
            <Loading />
          )
        ) : (
          <div className="table-wrap">
            <table data-testid="providers">
              <thead>
                <tr>
                  <th scope="col">Provider</th>
                  <th scope="col">Protocol</th>
                  <th scope="col">Breaker</th>
                  <th scope="col">Enabled</th>
                  {write ? <th scope="col">Switch</th> : null}
                </tr>
              </thead>
              <tbody>
                {providers.data.items.map((provider) => (
                  <tr key={provider.providerId}>
                    <td>
                      {provider.name} <span className="mono muted">({provider.providerId})</span>
                    </td>
                    <td>{provider.protocol}</td>
                    <td>
                      <Badge
                        tone={
                          provider.breaker === 'closed'
                            ? 'good'
                            : provider.breaker === 'open'
                              ? 'bad'
                              : 'warn'
                        }
                      >
                        {humanize(provider.breaker)}
                      </Badge>
                    </td>
                    <td>{provider.enabled ? 'Yes' : 'No'}</td>
                    {write ? (
                      <SwitchCell
                        name={provider.name}
                        on={provider.enabled}
                        disabled={action.busy}
                        onSwitch={() =>
                          void change(
                            `/admin/v1/providers/${encodeURIComponent(provider.providerId)}`,
                            !provider.enabled,
                            provider.name,
                          )
                        }
                      />
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
      <Section title="Games">
        <ErrorAlert error={games.error} />
        {!games.data ? (
          games.error ? null : (
            <Loading />
          )
        ) : (
          <div className="table-wrap">
            <table data-testid="games">
              <thead>
                <tr>
                  <th scope="col">Game</th>
                  <th scope="col">Provider</th>
                  <th scope="col">Type</th>
                  <th scope="col" className="num">
                    RTP
                  </th>
                  <th scope="col">Playable now</th>
                  {write ? <th scope="col">Switch</th> : null}
                </tr>
              </thead>
              <tbody>
                {games.data.items.map((game) => (
                  <tr key={game.gameId}>
                    <td>
                      {game.name} <span className="mono muted">({game.gameId})</span>
                    </td>
                    <td>{game.providerId}</td>
                    <td>{humanize(game.type)}</td>
                    <td className="num">{game.rtp}%</td>
                    <td>
                      <Badge tone={game.enabled ? 'good' : 'neutral'}>{game.enabled ? 'Yes' : 'No'}</Badge>
                      {game.gameEnabled && !game.enabled ? ' (its provider or gaming is off)' : ''}
                    </td>
                    {write ? (
                      <SwitchCell
                        name={game.name}
                        on={game.gameEnabled}
                        disabled={action.busy}
                        onSwitch={() =>
                          void change(
                            `/admin/v1/games/${encodeURIComponent(game.gameId)}`,
                            !game.gameEnabled,
                            game.name,
                          )
                        }
                      />
                    ) : null}
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

/** The Switch column's cell: turns one provider or game off when on, on when off. */
function SwitchCell(props: { name: string; on: boolean; disabled: boolean; onSwitch: () => void }) {
  return (
    <td>
      <button type="button" className="small secondary" disabled={props.disabled} onClick={props.onSwitch}>
        {props.on ? 'Switch off' : 'Switch on'}
        <span className="sr-only"> {props.name}</span>
      </button>
    </td>
  );
}
