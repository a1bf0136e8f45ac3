// The hosted payment page of the sandbox payment provider: what the player's browser opens at the
// deposit's redirectUrl. One self-contained HTML document (inline style and script allowed by a
// per-response nonce, no external asset, no cookie), readable on a phone, usable with a keyboard
// and a screen reader. The buttons POST {"decision":"approve"|"decline"} to the page's own URL with
// fetch; the JSON content type keeps a cross-site form from deciding for the player.
import { randomBytes } from 'node:crypto';
import { escapeHtml, htmlHeaders } from '../html.ts';

export interface HostedPageData {
  /** The provider instance, e.g. "sandbox-eu". */
  readonly provider: string;
  readonly merchant: string;
  readonly paymentId: string;
  readonly reference: string;
  /** Display amount, e.g. "10.50". */
  readonly amount: string;
  readonly currency: string;
  readonly status: string;
  readonly returnUrl: string | undefined;
}

export interface HostedPage {
  readonly html: string;
  readonly headers: Readonly<Record<string, string>>;
}

const FINISHED_TEXT: Readonly<Record<string, string>> = {
  processing: 'Your choice was received. The payment is being processed.',
  completed: 'This payment is complete.',
  declined: 'This payment was declined.',
  expired: 'This payment expired before it was approved.',
};

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-size:1rem;line-height:1.5;background:#eef0f3;color:#1b1f24}
main{max-width:30rem;margin:0 auto;padding:1rem}
.note{margin:0 0 1rem;padding:.5rem .75rem;border-radius:8px;background:#fff4d6;color:#4a3700;font-size:.9rem}
.card{background:#fff;border-radius:12px;padding:1.25rem;box-shadow:0 1px 3px rgba(0,0,0,.2)}
h1{font-size:1.25rem;margin:0}
.amount{font-size:2.25rem;font-weight:700;margin:.25rem 0 1rem;overflow-wrap:anywhere}
dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem .75rem;margin:0 0 1.25rem;font-size:.9rem}
dt{color:#4b5563}
dd{margin:0;overflow-wrap:anywhere}
.actions{display:flex;flex-direction:column;gap:.75rem}
button{font:inherit;font-size:1.1rem;font-weight:600;min-height:48px;padding:.75rem 1rem;border-radius:8px;border:2px solid transparent;cursor:pointer}
.approve{background:#146c2e;color:#fff}
.decline{background:#fff;color:#a4161a;border-color:#a4161a}
button:focus-visible,a:focus-visible{outline:3px solid #1d4ed8;outline-offset:2px}
button:disabled{opacity:.6;cursor:progress}
.result{min-height:1.5rem;margin:1rem 0 0;font-weight:600}
.result:focus{outline:none}
a{color:#1d4ed8}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (min-width:30rem){.actions{flex-direction:row}.actions button{flex:1}}
`;

// Runs in the player's browser. It reads nothing from the server's data but the page's own URL,
// so nothing the merchant sent can become script.
const SCRIPT = `
(() => {
  const actions = document.getElementById('actions');
  const result = document.getElementById('result');
  const back = document.getElementById('back');
  if (!actions) return;
  const buttons = Array.from(actions.querySelectorAll('button[data-decision]'));
  const done = {
    approve: 'Payment approved. It is being processed.',
    decline: 'Payment declined. No money was taken.',
  };
  const say = (text) => { result.textContent = text; result.focus(); };
  for (const button of buttons) {
    button.addEventListener('click', async () => {
      const decision = button.dataset.decision;
      for (const each of buttons) each.disabled = true;
      result.textContent = 'Sending your choice…';
      try {
        const response = await fetch(window.location.pathname, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ decision }),
        });
        const body = await response.json().catch(() => ({}));
        if (response.ok) {
          actions.hidden = true;
          say(done[decision]);
        } else if (response.status === 409) {
          actions.hidden = true;
          say('This payment was already ' + (typeof body.status === 'string' ? body.status : 'decided') + '.');
        } else {
          throw new Error('the provider answered ' + response.status);
        }
        if (back) back.hidden = false;
      } catch (error) {
        for (const each of buttons) each.disabled = false;
        say('Your choice could not be sent (' + (error instanceof Error ? error.message : 'network error') + '). Please try again.');
      }
    });
  }
})();
`;

export function renderHostedPage(data: HostedPageData): HostedPage {
  const nonce = randomBytes(16).toString('base64');
  const pending = data.status === 'pending';
  const merchant = escapeHtml(data.merchant);
  const amount = `${escapeHtml(data.amount)} ${escapeHtml(data.currency)}`;
  const back =
    data.returnUrl === undefined
      ? ''
      : `<p id="back"${pending ? ' hidden' : ''}><a href="${escapeHtml(data.returnUrl)}">Return to ${merchant}</a></p>`;
  const actions = pending
    ? `<div class="actions" id="actions" role="group" aria-label="Your decision">
<button type="button" class="approve" data-decision="approve" aria-describedby="amount">Approve payment</button>
<button type="button" class="decline" data-decision="decline" aria-describedby="amount">Decline payment</button>
</div>
<noscript><p>This page needs JavaScript to send your choice.</p></noscript>`
    : '';
  const statusText = pending
    ? ''
    : escapeHtml(FINISHED_TEXT[data.status] ?? `This payment is ${data.status}.`);
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Pay ${amount} to ${merchant} · ${escapeHtml(data.provider)}</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<main>
<p class="note" role="note">Test payment page of the sandbox provider <strong>${escapeHtml(data.provider)}</strong>. No real money moves.</p>
<section class="card" aria-labelledby="title">
<h1 id="title">Pay ${merchant}</h1>
<p class="amount" id="amount"><span class="sr-only">Amount: </span>${amount}</p>
<dl>
<dt>Merchant</dt><dd>${merchant}</dd>
<dt>Reference</dt><dd>${escapeHtml(data.reference)}</dd>
<dt>Payment</dt><dd>${escapeHtml(data.paymentId)}</dd>
</dl>
${actions}
<p class="result" id="result" role="status" aria-live="polite" tabindex="-1">${statusText}</p>
${back}
</section>
</main>
${pending ? `<script nonce="${nonce}">${SCRIPT}</script>` : ''}
</body>
</html>
`;
  return { html, headers: htmlHeaders(nonce, 'none') };
}

/** The page shown for an unknown payment (404) or while the provider is down (503). */
export function renderMessagePage(title: string, message: string): HostedPage {
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
<main>
<section class="card" aria-labelledby="title">
<h1 id="title">${escapeHtml(title)}</h1>
<p>${escapeHtml(message)}</p>
</section>
</main>
</body>
</html>
`;
  return { html, headers: htmlHeaders(nonce, 'none') };
}
