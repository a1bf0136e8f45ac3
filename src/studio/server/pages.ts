// The studio's browser pages: the game client at the launch URL (/play/{gameId}), the fairness
// verifier (/fair) and a small index. Each is one self-contained HTML document: inline style and
// script admitted by a per-response nonce, no external asset, no cookie, readable on a phone,
// usable with a keyboard and a screen reader. The scripts talk only to the studio's own JSON API
// (same origin) and put server data on the page with textContent, never as markup.
import { randomBytes } from 'node:crypto';
import type { StudioGameInfo } from './catalogue.ts';
import { escapeHtml, htmlHeaders } from '../../sandbox/html.ts';

export interface Page {
  readonly html: string;
  readonly headers: Readonly<Record<string, string>>;
}

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-size:1rem;line-height:1.45;background:#10261c;color:#1b1f24}
main{max-width:46rem;margin:0 auto;padding:.75rem}
header.bar{display:flex;flex-wrap:wrap;align-items:baseline;justify-content:space-between;gap:.5rem;color:#f4f1e8;padding:.25rem .25rem .75rem}
header.bar h1{font-size:1.3rem;margin:0}
.balance{font-size:1.1rem;font-weight:700}
.card{background:#fff;border-radius:12px;padding:1rem;margin:0 0 .75rem;box-shadow:0 1px 3px rgba(0,0,0,.3)}
h2{font-size:1.05rem;margin:0 0 .5rem}
label{display:block;font-weight:600;font-size:.9rem;margin:.5rem 0 .2rem}
input,select,textarea{font:inherit;font-size:1rem;padding:.5rem;border:1px solid #8a9099;border-radius:6px;width:100%;min-height:44px;background:#fff;color:#1b1f24}
textarea{min-height:6rem;font-family:ui-monospace,monospace;font-size:.85rem}
.row{display:grid;grid-template-columns:1fr 1fr;gap:.5rem}
button{font:inherit;font-weight:700;min-height:48px;padding:.6rem 1rem;border-radius:8px;border:2px solid transparent;cursor:pointer;background:#1d4ed8;color:#fff}
button.play{width:100%;font-size:1.2rem;margin-top:.75rem;background:#146c2e}
button.secondary{background:#fff;color:#1d4ed8;border-color:#1d4ed8}
button.small{min-height:36px;padding:.2rem .6rem;font-size:.85rem}
button:disabled{opacity:.55;cursor:not-allowed}
button:focus-visible,a:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
.status{min-height:1.5rem;margin:.75rem 0 0;font-weight:600}
.status.error{color:#a4161a}
.reels{display:grid;grid-template-columns:repeat(5,1fr);gap:4px;margin:.5rem 0;max-width:24rem}
.cell{aspect-ratio:1.2;display:flex;align-items:center;justify-content:center;border-radius:6px;background:#f3f4f6;font-weight:800;font-size:clamp(.6rem,3vw,.9rem);border:1px solid #d1d5db;text-align:center;overflow-wrap:anywhere}
.s-WILD{background:#fde68a}.s-SCATTER{background:#c7d2fe}.s-SEVEN{background:#fecaca}.s-BAR{background:#e5e7eb}
.big{font-size:2rem;font-weight:800;margin:.25rem 0}
.red{color:#b91c1c}.black{color:#111827}.green{color:#047857}
.bets{list-style:none;padding:0;margin:.5rem 0}
.bets li{display:flex;justify-content:space-between;align-items:center;gap:.5rem;padding:.25rem 0;border-bottom:1px solid #e5e7eb}
table{width:100%;border-collapse:collapse;font-size:.85rem}
th,td{text-align:left;padding:.3rem .25rem;border-bottom:1px solid #e5e7eb;vertical-align:top}
.scroll{overflow-x:auto}
code,.mono{font-family:ui-monospace,monospace;font-size:.8rem;overflow-wrap:anywhere;word-break:break-all}
dl{display:grid;grid-template-columns:auto 1fr;gap:.2rem .75rem;margin:0;font-size:.9rem}
dt{color:#4b5563}
dd{margin:0;overflow-wrap:anywhere}
details summary{cursor:pointer;font-weight:700}
a{color:#1d4ed8}
.note{font-size:.85rem;color:#4b5563}
.ok{color:#146c2e;font-weight:700}.bad{color:#a4161a;font-weight:700}
.betbox{border:1px solid #d1d5db;border-radius:8px;padding:.5rem .75rem;margin:.5rem 0}
.gap{margin-top:.5rem}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:26rem){.row{grid-template-columns:1fr}}
`;

function document(
  title: string,
  body: string,
  script: string | undefined,
  frameAncestors: readonly string[] = [],
): Page {
  const nonce = randomBytes(16).toString('base64');
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
${body}
${script === undefined ? '' : `<script nonce="${nonce}">${script}</script>`}
</body>
</html>
`;
  return { html, headers: htmlHeaders(nonce, frameAncestors) };
}

export function renderMessagePage(title: string, message: string): Page {
  return document(
    title,
    `<main><section class="card"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></section></main>`,
    undefined,
  );
}

export function renderIndexPage(games: readonly StudioGameInfo[]): Page {
  const items = games
    .map(
      (game) =>
        `<li><strong>${escapeHtml(game.name)}</strong> (${escapeHtml(game.gameId)}): RTP ${escapeHtml(game.rtpPercent)} %, max win ${escapeHtml(game.maxWinMultiplier)}× stake</li>`,
    )
    .join('');
  return document(
    'Croupier demo game studio',
    `<main><header class="bar"><h1>Croupier demo game studio</h1></header>
<section class="card"><p>Games are opened from the casino, which sends you here with a game session.</p>
<ul>${items}</ul><p><a href="/fair">Verify a round (provably fair)</a></p></section></main>`,
    undefined,
  );
}

function gameControls(game: StudioGameInfo): string {
  switch (game.game) {
    case 'slot':
      return `<div class="reels" id="reels" role="img" aria-label="Reels: not spun yet"></div>
<label for="stake">Total stake (all 10 lines)</label>
<input id="stake" name="stake" inputmode="decimal" autocomplete="off" value="1.00" aria-describedby="limits">
<p class="note" id="limits"></p>
<button type="button" class="play" id="play">Spin</button>`;
    case 'dice':
      return `<p class="big" id="roll" aria-label="Last roll">–</p>
<div class="row">
<div><label for="target">Roll under (1.00–98.00)</label>
<input id="target" name="target" inputmode="decimal" autocomplete="off" value="50.00" aria-describedby="odds"></div>
<div><label for="stake">Stake</label>
<input id="stake" name="stake" inputmode="decimal" autocomplete="off" value="1.00" aria-describedby="limits"></div>
</div>
<p class="note" id="odds"></p>
<p class="note" id="limits"></p>
<button type="button" class="play" id="play">Roll</button>`;
    case 'roulette':
      return `<p class="big" id="pocket" aria-label="Last pocket">–</p>
<fieldset class="betbox"><legend>Add a bet</legend>
<div class="row">
<div><label for="kind">Bet</label>
<select id="kind" name="kind">
<option value="straight">Straight (one number, 35:1)</option>
<option value="split">Split (two adjacent numbers, 17:1)</option>
<option value="red">Red (1:1)</option><option value="black">Black (1:1)</option>
<option value="odd">Odd (1:1)</option><option value="even">Even (1:1)</option>
<option value="dozen">Dozen (2:1)</option>
</select></div>
<div><label for="stake">Stake of this bet</label>
<input id="stake" name="stake" inputmode="decimal" autocomplete="off" value="1.00" aria-describedby="limits"></div>
</div>
<div class="row">
<div id="n1-box"><label for="n1">Number (0–36)</label><input id="n1" name="n1" inputmode="numeric" autocomplete="off" value="17"></div>
<div id="n2-box" hidden><label for="n2">Second number (adjacent)</label><input id="n2" name="n2" inputmode="numeric" autocomplete="off" value="18"></div>
<div id="dozen-box" hidden><label for="dozen">Dozen</label><select id="dozen" name="dozen"><option value="1">1–12</option><option value="2">13–24</option><option value="3">25–36</option></select></div>
</div>
<button type="button" class="secondary gap" id="add-bet">Add bet</button>
</fieldset>
<h3 class="sr-only" id="bets-title">Bets on this spin</h3>
<ul class="bets" id="bets" aria-labelledby="bets-title"></ul>
<p id="bets-total">No bets yet.</p>
<p class="note" id="limits"></p>
<button type="button" class="play" id="play">Spin the wheel</button>`;
  }
}

export function renderPlayPage(game: StudioGameInfo, frameAncestors: readonly string[] = []): Page {
  const rules = game.rules.map((rule) => `<li>${escapeHtml(rule)}</li>`).join('');
  const body = `<main id="app" data-game-id="${escapeHtml(game.gameId)}" data-game="${escapeHtml(game.game)}">
<header class="bar">
<h1>${escapeHtml(game.name)}</h1>
<p class="balance" aria-live="polite"><span>Balance: </span><span id="balance">…</span></p>
</header>
<section class="card" aria-labelledby="play-title">
<h2 id="play-title">Play</h2>
${gameControls(game)}
<p class="status" id="status" role="status" aria-live="polite" tabindex="-1">Opening your game session…</p>
<div id="detail" class="note"></div>
<p class="note" id="pace"></p>
</section>
<section class="card" aria-labelledby="fair-title">
<h2 id="fair-title">Provably fair</h2>
<dl>
<dt>Server seed hash (SHA-256, shown before you play)</dt><dd class="mono" id="seed-hash">…</dd>
<dt>Next nonce</dt><dd id="nonce">…</dd>
</dl>
<label for="client-seed">Your client seed</label>
<input id="client-seed" name="client-seed" autocomplete="off" maxlength="64" aria-describedby="client-seed-help">
<p class="note" id="client-seed-help">Changing it starts a new seed pair: the current server seed is revealed and every round played with it can be verified.</p>
<div class="row">
<button type="button" class="secondary" id="set-client-seed">Use this client seed</button>
<button type="button" class="secondary" id="rotate">Reveal server seed and rotate</button>
</div>
<details id="revealed-box"><summary>Revealed server seeds</summary><div class="scroll"><table><thead><tr><th scope="col">Server seed</th><th scope="col">Hash</th><th scope="col">Client seed</th><th scope="col">Rounds</th></tr></thead><tbody id="revealed"></tbody></table></div></details>
<p><a href="/fair" target="_blank" rel="noopener">Open the round verifier</a></p>
</section>
<section class="card" aria-labelledby="history-title">
<h2 id="history-title">Your rounds</h2>
<div class="scroll"><table><thead><tr><th scope="col">Time</th><th scope="col">Stake</th><th scope="col">Paid</th><th scope="col">Result</th><th scope="col">Nonce</th><th scope="col">Verify</th></tr></thead><tbody id="history"></tbody></table></div>
</section>
<section class="card" aria-labelledby="rules-title">
<details><summary id="rules-title">Rules, RTP and maximum win</summary>
<ul>${rules}</ul>
<p>Return to player: <strong>${escapeHtml(game.rtpPercent)} %</strong> (theoretical, over the long run). Maximum win: <strong>${escapeHtml(game.maxWinMultiplier)}×</strong> the round's stake.</p>
<p class="note">Every round starts from one press of the button: there is no autoplay and no turbo or quick spin. Some markets set a minimum time between rounds.</p>
</details>
</section>
</main>`;
  return document(`${game.name} · Croupier demo studio`, body, PLAY_SCRIPT, frameAncestors);
}

// Runs in the player's browser. Launch parameters come from the page's own URL (then leave the
// address bar); everything else from the studio's JSON API.
const PLAY_SCRIPT = `
(() => {
  'use strict';
  const app = document.getElementById('app');
  const gameId = app.dataset.gameId;
  const game = app.dataset.game;
  const $ = (id) => document.getElementById(id);
  const storeKey = 'croupier-studio:' + gameId;
  const params = new URLSearchParams(location.search);
  let launch = null;
  if (params.get('sessionToken')) {
    launch = { sessionToken: params.get('sessionToken'), playerId: params.get('playerId') || '', currency: params.get('currency') || '' };
    try { sessionStorage.setItem(storeKey, JSON.stringify(launch)); } catch (e) { /* private mode */ }
    history.replaceState(null, '', location.pathname);
  } else {
    try { launch = JSON.parse(sessionStorage.getItem(storeKey) || 'null'); } catch (e) { launch = null; }
  }
  let sessionId = null;
  let state = null;
  let busy = false;
  let nextAt = 0;
  let bets = [];

  const say = (text, isError) => {
    const node = $('status');
    node.textContent = text;
    node.className = 'status' + (isError ? ' error' : '');
  };
  const el = (tag, text, cls) => {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  };
  const money = (amount) => amount + ' ' + (state ? state.currency : '');
  const toMinor = (text) => {
    const scale = state ? state.scale : 2;
    const m = /^(\\d+)(?:\\.(\\d+))?$/.exec(String(text).trim());
    if (!m || (m[2] || '').length > scale) return null;
    return BigInt(m[1] + (m[2] || '').padEnd(scale, '0'));
  };
  const fromMinor = (minor) => {
    const scale = state ? state.scale : 2;
    const digits = minor.toString().padStart(scale + 1, '0');
    return scale === 0 ? digits : digits.slice(0, digits.length - scale) + '.' + digits.slice(digits.length - scale);
  };

  async function openSession() {
    if (!launch) throw new Error('Open this game from the casino: the launch link is missing.');
    const response = await fetch('/api/sessions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sessionToken: launch.sessionToken, playerId: launch.playerId, currency: launch.currency, gameId: gameId }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.message || ('the studio answered ' + response.status));
    sessionId = body.sessionId;
    return body;
  }

  async function api(method, path, body) {
    for (let attempt = 0; attempt < 2; attempt += 1) {
      if (!sessionId) await openSession();
      const response = await fetch(path, {
        method: method,
        headers: Object.assign({ authorization: 'Bearer ' + sessionId }, body === undefined ? {} : { 'content-type': 'application/json' }),
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = await response.json().catch(() => ({}));
      if (response.status === 401 && json.error === 'NO_SESSION' && attempt === 0) { sessionId = null; continue; }
      return { status: response.status, ok: response.ok, body: json };
    }
    throw new Error('no session');
  }

  function showFairness(fairness) {
    $('seed-hash').textContent = fairness.active.serverSeedHash;
    $('nonce').textContent = String(fairness.active.nonce);
    if (document.activeElement !== $('client-seed')) $('client-seed').value = fairness.active.clientSeed;
    const body = $('revealed');
    body.replaceChildren();
    for (const seed of fairness.revealed) {
      const row = el('tr');
      row.append(el('td', seed.serverSeed, 'mono'), el('td', seed.serverSeedHash, 'mono'), el('td', seed.clientSeed, 'mono'), el('td', seed.roundsPlayed));
      body.append(row);
    }
  }

  function showBalance(balance) {
    if (balance !== undefined && balance !== null) $('balance').textContent = money(balance);
  }

  function resultText(round) {
    if (round.status === 'refused') return 'Refused: ' + (round.code || '');
    if (round.status === 'void' || round.status === 'voiding') return 'Not played (stake returned)';
    if (round.status === 'failed') return 'Needs support: ' + (round.code || '');
    return round.description || '';
  }

  async function loadHistory() {
    const reply = await api('GET', '/api/rounds?limit=20');
    if (!reply.ok) return;
    const body = $('history');
    body.replaceChildren();
    for (const round of reply.body.items) {
      const row = el('tr');
      const link = el('a', 'verify');
      link.href = '/fair?roundId=' + encodeURIComponent(round.roundId);
      link.target = '_blank';
      link.rel = 'noopener';
      link.setAttribute('aria-label', 'Verify round ' + round.roundId);
      const verify = el('td');
      verify.append(link);
      row.append(
        el('td', new Date(round.createdAt).toLocaleTimeString()),
        el('td', round.stake),
        el('td', round.payout === undefined ? '–' : round.payout + (round.winPending ? ' (pending)' : '')),
        el('td', resultText(round)),
        el('td', round.fairness.nonce),
        verify,
      );
      body.append(row);
    }
  }

  function describeWin(round) {
    const stake = toMinor(round.stake);
    const payout = toMinor(round.payout);
    if (payout === null || stake === null || payout === 0n) return 'No win this time.';
    // A return of no more than the stake is not called a win (UKGC RTS 14C).
    if (payout <= stake) return 'Returned ' + money(round.payout) + ' of your ' + money(round.stake) + ' stake.';
    return 'You win ' + money(round.payout) + '!';
  }

  function showSlot(outcome) {
    const spin = outcome.spins[0];
    const grid = $('reels');
    grid.replaceChildren();
    const labels = [];
    for (let row = 0; row < 3; row += 1) {
      for (let reel = 0; reel < 5; reel += 1) {
        const symbol = spin.window[row][reel];
        grid.append(el('div', symbol === 'SCATTER' ? 'SCAT' : symbol, 'cell s-' + symbol));
      }
      labels.push('row ' + (row + 1) + ': ' + spin.window[row].join(', '));
    }
    grid.setAttribute('aria-label', 'Reels: ' + labels.join('; '));
  }

  function showOutcome(round) {
    const detail = $('detail');
    detail.replaceChildren();
    const outcome = round.outcome;
    if (!outcome) return;
    if (game === 'slot') {
      showSlot(outcome);
      for (const win of outcome.spins[0].lineWins) detail.append(el('div', 'Line ' + win.line + ': ' + win.count + ' × ' + win.symbol + ' pays ' + win.units + ' line bets'));
      if (outcome.freeSpinsAwarded > 0) {
        const free = outcome.spins.slice(1).map((spin, i) => 'free spin ' + (i + 1) + ': ' + spin.units * spin.multiplier + ' line bets');
        detail.append(el('div', outcome.freeSpinsAwarded + ' free spins at ×2: ' + free.join(', ')));
      }
    } else if (game === 'dice') {
      $('roll').textContent = (outcome.roll / 100).toFixed(2);
    } else if (game === 'roulette') {
      const pocket = $('pocket');
      pocket.textContent = outcome.pocket + ' ' + outcome.color;
      pocket.className = 'big ' + outcome.color;
      for (const result of outcome.results) detail.append(el('div', betLabel(result.bet) + ': ' + (result.win ? 'wins ' + money(result.payout) : 'loses')));
    }
    detail.append(el('div', round.description));
  }

  function betLabel(bet) {
    if (bet.kind === 'straight') return 'Straight ' + bet.number + ' (' + money(bet.stake) + ')';
    if (bet.kind === 'split') return 'Split ' + bet.numbers[0] + '/' + bet.numbers[1] + ' (' + money(bet.stake) + ')';
    if (bet.kind === 'dozen') return 'Dozen ' + bet.dozen + ' (' + money(bet.stake) + ')';
    return bet.kind.charAt(0).toUpperCase() + bet.kind.slice(1) + ' (' + money(bet.stake) + ')';
  }

  function renderBets() {
    const list = $('bets');
    list.replaceChildren();
    let total = 0n;
    bets.forEach((bet, index) => {
      const item = el('li');
      item.append(el('span', betLabel(bet)));
      const remove = el('button', 'Remove', 'secondary small');
      remove.type = 'button';
      remove.setAttribute('aria-label', 'Remove ' + betLabel(bet));
      remove.addEventListener('click', () => { bets.splice(index, 1); renderBets(); });
      item.append(remove);
      list.append(item);
      total += toMinor(bet.stake) || 0n;
    });
    $('bets-total').textContent = bets.length === 0 ? 'No bets yet.' : bets.length + ' bet(s), total stake ' + money(fromMinor(total));
  }

  function updateOdds() {
    const target = Number($('target').value);
    if (!(target >= 1 && target <= 98)) { $('odds').textContent = 'Pick a target from 1.00 to 98.00.'; return; }
    const multiplier = Math.floor((99 / target) * 10000) / 10000;
    $('odds').textContent = 'Win chance ' + target.toFixed(2) + ' %, pays ' + multiplier.toFixed(4) + '× the stake.';
  }

  function tick() {
    const wait = Math.max(0, nextAt - Date.now());
    $('play').disabled = busy || wait > 0 || !sessionId;
    $('pace').textContent = wait > 0 ? 'Next round in ' + (wait / 1000).toFixed(1) + ' s.' : '';
  }
  setInterval(tick, 200);

  function setPace(ms) {
    nextAt = Date.now() + ms;
    tick();
  }

  function requestBody() {
    const stake = $('stake').value.trim();
    if (game === 'slot') return { stake: stake };
    if (game === 'dice') return { stake: stake, target: Number($('target').value).toFixed(2) };
    return { bets: bets };
  }

  async function play() {
    if (busy) return;
    if (game === 'roulette' && bets.length === 0) { say('Add at least one bet first.', true); return; }
    busy = true;
    tick();
    say('Placing your stake…');
    try {
      const reply = await api('POST', '/api/rounds', requestBody());
      const body = reply.body;
      if (reply.ok) {
        showOutcome(body);
        say(describeWin(body) + (body.winPending ? ' Your win is being credited.' : ''));
        showBalance(body.balance);
        setPace(state.game.minRoundIntervalMs);
      } else if (reply.status === 429) {
        setPace(body.retryAfterMs || 1000);
        say('Please wait: ' + body.message, true);
      } else {
        say(body.message || ('The round failed (' + reply.status + ').'), true);
        showBalance(body.balance);
      }
      await refresh();
    } catch (error) {
      say('The studio could not be reached. Your round, if it started, is settled or returned automatically.', true);
    } finally {
      busy = false;
      tick();
    }
  }

  async function refresh() {
    const fairness = await api('GET', '/api/fairness');
    if (fairness.ok) showFairness(fairness.body);
    await loadHistory();
  }

  async function rotate(clientSeed) {
    const reply = await api('POST', '/api/fairness/rotate', clientSeed === undefined ? {} : { clientSeed: clientSeed });
    if (!reply.ok) { say(reply.body.message || 'Could not rotate the seeds.', true); return; }
    say('Server seed revealed: ' + reply.body.revealed.serverSeed + '. A new seed pair is active.');
    await refresh();
  }

  $('play').addEventListener('click', play);
  $('rotate').addEventListener('click', () => { void rotate(undefined); });
  $('set-client-seed').addEventListener('click', () => { void rotate($('client-seed').value); });
  if (game === 'dice') { $('target').addEventListener('input', updateOdds); updateOdds(); }
  if (game === 'roulette') {
    const kind = $('kind');
    const sync = () => {
      const value = kind.value;
      $('n1-box').hidden = !(value === 'straight' || value === 'split');
      $('n2-box').hidden = value !== 'split';
      $('dozen-box').hidden = value !== 'dozen';
    };
    kind.addEventListener('change', sync);
    sync();
    $('add-bet').addEventListener('click', () => {
      const value = kind.value;
      const stake = $('stake').value.trim();
      if (toMinor(stake) === null) { say('Enter the stake as an amount such as 1.00.', true); return; }
      const bet = { kind: value, stake: stake };
      if (value === 'straight') bet.number = Number($('n1').value);
      if (value === 'split') bet.numbers = [Number($('n1').value), Number($('n2').value)];
      if (value === 'dozen') bet.dozen = Number($('dozen').value);
      bets.push(bet);
      renderBets();
      say(betLabel(bet) + ' added.');
    });
    renderBets();
  }

  (async () => {
    try {
      state = await openSession();
      showBalance(state.balance);
      showFairness(state.fairness);
      $('limits').textContent = 'Stake from ' + money(state.game.stakeMin) + ' to ' + money(state.game.stakeMax) + ' per round.';
      setPace(state.nextRoundInMs);
      say('Ready. Good luck!');
      await loadHistory();
    } catch (error) {
      say(error instanceof Error ? error.message : 'The game could not be opened.', true);
    }
    tick();
  })();
})();
`;

export function renderFairPage(games: readonly StudioGameInfo[]): Page {
  const options = games
    .map((game) => `<option value="${escapeHtml(game.gameId)}">${escapeHtml(game.name)}</option>`)
    .join('');
  const body = `<main>
<header class="bar"><h1>Verify a round</h1></header>
<section class="card" aria-labelledby="by-id-title">
<h2 id="by-id-title">By round id</h2>
<p class="note">A round can be verified once its seed pair has been rotated (the server seed is then revealed). The studio recomputes the round from the revealed seed, your client seed and the nonce, and checks the seed against the hash you were shown before playing.</p>
<label for="round-id">Round id</label>
<input id="round-id" name="round-id" autocomplete="off">
<button type="button" id="check-round" class="gap">Verify this round</button>
<div id="round-result" role="status" aria-live="polite" tabindex="-1"></div>
</section>
<section class="card" aria-labelledby="manual-title">
<h2 id="manual-title">From your own numbers</h2>
<label for="server-seed">Revealed server seed</label><input id="server-seed" class="mono" autocomplete="off">
<label for="server-seed-hash">Server seed hash shown before play</label><input id="server-seed-hash" class="mono" autocomplete="off">
<div class="row">
<div><label for="client-seed">Client seed</label><input id="client-seed" autocomplete="off"></div>
<div><label for="nonce">Nonce</label><input id="nonce" inputmode="numeric" autocomplete="off" value="0"></div>
</div>
<div class="row">
<div><label for="game">Game</label><select id="game">${options}</select></div>
<div><label for="currency">Currency</label><input id="currency" autocomplete="off" value="EUR"></div>
</div>
<label for="bet">Bet (JSON, as the game sent it)</label>
<textarea id="bet" spellcheck="false">{"stake":"1.00"}</textarea>
<button type="button" id="check-manual" class="gap">Recompute</button>
<div id="manual-result" role="status" aria-live="polite" tabindex="-1"></div>
</section>
<section class="card" aria-labelledby="diy-title">
<h2 id="diy-title">Check it yourself</h2>
<p class="note">With the revealed seed: <code>printf '%s' "$SERVER_SEED" | sha256sum</code> must print the hash you were shown, and <code>printf '%s' "$CLIENT_SEED:$NONCE:0" | openssl dgst -sha256 -hmac "$SERVER_SEED"</code> gives the round's first 32 random bytes (8 big-endian 32-bit words). The full method: docs/studio-games.md §1.</p>
</section>
</main>`;
  return document('Verify a round · Croupier demo studio', body, FAIR_SCRIPT);
}

const FAIR_SCRIPT = `
(() => {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const el = (tag, text, cls) => {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  };
  const pairs = (target, rows) => {
    const list = el('dl');
    for (const [name, value, cls] of rows) list.append(el('dt', name), el('dd', value, cls));
    target.append(list);
  };
  const verdict = (ok, yes, no) => el('p', ok ? yes : no, ok ? 'ok' : 'bad');

  async function checkRound() {
    const id = $('round-id').value.trim();
    const out = $('round-result');
    out.replaceChildren();
    if (!id) { out.append(el('p', 'Enter a round id.', 'bad')); return; }
    const response = await fetch('/fair/rounds/' + encodeURIComponent(id));
    const body = await response.json().catch(() => ({}));
    if (!response.ok) { out.append(el('p', body.message || ('Not found (' + response.status + ').'), 'bad')); out.focus(); return; }
    const round = body.round;
    pairs(out, [
      ['Game', round.gameId], ['Status', round.status], ['Stake', round.stake + ' ' + round.currency],
      ['Paid', round.payout === undefined ? '–' : round.payout + ' ' + round.currency], ['Result', round.description || '–'],
      ['Server seed hash', round.fairness.serverSeedHash, 'mono'], ['Client seed', round.fairness.clientSeed, 'mono'],
      ['Nonce', round.fairness.nonce], ['Bet', JSON.stringify(round.request), 'mono'],
    ]);
    if (!body.revealed) {
      out.append(el('p', round.payout === undefined ? 'This round was not played, so there is nothing to verify.' : 'The server seed of this round is still in use. Rotate your seed pair in the game, then verify again.'));
    } else {
      pairs(out, [['Revealed server seed', body.serverSeed, 'mono']]);
      const v = body.verification;
      out.append(verdict(v.hashMatches, 'The revealed seed matches the hash shown before play.', 'The revealed seed does NOT match the hash.'));
      out.append(verdict(v.verified, 'Verified: recomputing the round gives exactly the recorded outcome.', 'NOT verified' + (v.problem ? ': ' + v.problem : '.')));
      $('server-seed').value = body.serverSeed;
      $('server-seed-hash').value = round.fairness.serverSeedHash;
      $('client-seed').value = round.fairness.clientSeed;
      $('nonce').value = String(round.fairness.nonce);
      $('game').value = round.gameId;
      $('currency').value = round.currency;
      $('bet').value = JSON.stringify(round.request);
    }
    out.focus();
  }

  async function checkManual() {
    const out = $('manual-result');
    out.replaceChildren();
    let bet;
    try { bet = JSON.parse($('bet').value); } catch (e) { out.append(el('p', 'The bet is not valid JSON.', 'bad')); return; }
    const response = await fetch('/fair/verify', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        serverSeed: $('server-seed').value.trim(), serverSeedHash: $('server-seed-hash').value.trim(),
        clientSeed: $('client-seed').value, nonce: Number($('nonce').value), gameId: $('game').value,
        currency: $('currency').value.trim(), bet: bet,
      }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) { out.append(el('p', body.message || ('Refused (' + response.status + ').'), 'bad')); out.focus(); return; }
    out.append(verdict(body.hashMatches, 'The seed matches the hash.', 'The seed does NOT match the hash.'));
    if (body.description) pairs(out, [['Recomputed result', body.description], ['Payout', body.payout]]);
    if (body.problem) out.append(el('p', body.problem, 'bad'));
    out.focus();
  }

  $('check-round').addEventListener('click', () => { void checkRound(); });
  $('check-manual').addEventListener('click', () => { void checkManual(); });
  const roundId = new URLSearchParams(location.search).get('roundId');
  if (roundId) { $('round-id').value = roundId; void checkRound(); }
})();
`;
