// One game: a game session from the platform, and the studio's own client page (on the studio's
// origin) in a frame. Bets and wins happen between the studio and the platform; the header's
// balance follows them through the live signals.
import { useEffect, useState } from 'react';
import { Link } from '../../shared/router.tsx';
import { Alert, ErrorAlert, Loading } from '../../shared/ui.tsx';
import { playCheck, useLobby } from '../context.ts';
import { useCatalogue } from './GamesPage.tsx';

interface GameSession {
  sessionToken: string;
  launchUrl: string;
  expiresAt: string;
}

export function PlayPage(props: { gameId: string }) {
  const { me, session } = useLobby();
  const catalogue = useCatalogue();
  const game = catalogue.data?.items.find((item) => item.gameId === props.gameId);
  const check = playCheck(me);
  const [launch, setLaunch] = useState<GameSession | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const allowed = check.ok && game?.enabled === true;

  useEffect(() => {
    // Only a player who may play asks for a session: the UI never provokes a refusal.
    if (!allowed) return;
    const controller = new AbortController();
    setLaunch(undefined);
    setError(undefined);
    session
      .api<GameSession>(
        'POST',
        `/api/v1/games/${encodeURIComponent(props.gameId)}/sessions`,
        {},
        controller.signal,
      )
      .then(setLaunch, (failure: unknown) => {
        if (!controller.signal.aborted) setError(failure);
      });
    return () => controller.abort();
  }, [allowed, props.gameId, session]);

  const title = game?.name ?? props.gameId;
  return (
    <>
      <div className="play-head">
        <h1>{title}</h1>
        <Link to="/">Back to the games</Link>
      </div>
      {catalogue.error ? <ErrorAlert error={catalogue.error} /> : null}
      {catalogue.data && !game ? <Alert tone="warning">There is no such game.</Alert> : null}
      {game && !game.enabled ? <Alert tone="warning">This game is switched off for now.</Alert> : null}
      {error ? <ErrorAlert error={error} /> : null}
      {allowed && !launch && !error ? <Loading label="Opening the game…" /> : null}
      {allowed && launch ? (
        <iframe
          className="play-frame"
          title={`${title} game`}
          src={launch.launchUrl}
          referrerPolicy="no-referrer"
          sandbox="allow-scripts allow-same-origin allow-forms"
          allow="fullscreen"
        />
      ) : null}
    </>
  );
}
