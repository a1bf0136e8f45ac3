// The game catalogue (public), with a Play button that is live only when the player may play.
import { request } from '../../shared/api.ts';
import { navigate } from '../../shared/router.tsx';
import { Alert, ErrorAlert, Loading, useLoad } from '../../shared/ui.tsx';
import { playCheck, useLobby } from '../context.ts';
import type { PlayCheck } from '../context.ts';
import type { Game } from '../types.ts';

const typeNames: Record<string, string> = {
  slot: 'Slot',
  table: 'Table game',
  live: 'Live casino',
  instant: 'Instant win',
};

export function useCatalogue() {
  return useLoad((signal) => request<{ items: Game[] }>('GET', '/api/v1/games', { signal }), 'games');
}

export function GamesPage() {
  const { me } = useLobby();
  return (
    <>
      <h1>Games</h1>
      <GameGrid canPlay={playCheck(me)} />
    </>
  );
}

export function GameGrid(props: { canPlay: PlayCheck }) {
  const catalogue = useCatalogue();
  if (catalogue.error) return <ErrorAlert error={catalogue.error} />;
  if (!catalogue.data) return <Loading label="Loading the games…" />;
  if (catalogue.data.items.length === 0) return <Alert tone="info">No games are available yet.</Alert>;
  return (
    <ul className="grid" aria-label="Game catalogue">
      {catalogue.data.items.map((game) => {
        const reasonId = `why-${game.gameId.replace(/[^A-Za-z0-9_-]/g, '_')}`;
        const reason = !game.enabled
          ? 'This game is switched off for now.'
          : props.canPlay.ok
            ? ''
            : props.canPlay.reason;
        return (
          <li key={game.gameId} className="card game-card">
            <div className={`game-art ${game.type}`} aria-hidden="true">
              {game.name
                .split(/\s+/)
                .map((word) => word.charAt(0))
                .join('')
                .slice(0, 3)}
            </div>
            <h2>{game.name}</h2>
            <p className="muted">
              {typeNames[game.type] ?? game.type} · RTP {game.rtp}% · {game.providerId}
            </p>
            <button
              type="button"
              disabled={reason !== ''}
              aria-describedby={reason ? reasonId : undefined}
              onClick={() => navigate(`/play/${encodeURIComponent(game.gameId)}`)}
            >
              Play {game.name}
            </button>
            {reason ? (
              <p className="hint" id={reasonId}>
                {reason}
              </p>
            ) : null}
          </li>
        );
      })}
    </ul>
  );
}
