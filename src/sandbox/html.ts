// The HTML pieces the outside parties' pages share (the payment sandbox's hosted page, the demo
// studio's game and fairness pages): escaping, and the security headers of a self-contained page
// whose only style and script carry a nonce.

export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/**
 * `frameAncestors`: `'none'` for a page nobody may frame (a payment page: no clickjacking), or the
 * origins allowed to frame it besides its own (a game page the casino's lobby shows in a frame).
 */
export function htmlHeaders(
  nonce: string,
  frameAncestors: 'none' | readonly string[],
): Record<string, string> {
  return {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': [
      "default-src 'none'",
      `style-src 'nonce-${nonce}'`,
      `script-src 'nonce-${nonce}'`,
      "connect-src 'self'",
      "img-src 'none'",
      "base-uri 'none'",
      "form-action 'none'",
      frameAncestors === 'none'
        ? "frame-ancestors 'none'"
        : ["frame-ancestors 'self'", ...frameAncestors].join(' '),
    ].join('; '),
    'x-content-type-options': 'nosniff',
    ...(frameAncestors === 'none' ? { 'x-frame-options': 'DENY' } : {}),
    // Page URLs may carry tokens (a game's launch URL): never send them on as a referrer.
    'referrer-policy': 'no-referrer',
  };
}
