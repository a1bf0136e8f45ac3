// Vite configuration of the two browser apps: the player lobby (web/index.html, served at `/`) and
// the back office (web/backoffice/index.html, served at `/backoffice`). One build, two entry
// points, shared chunks. It is a plain object with no import of vite at run time, so the platform
// (src/apps/web.ts) can read it with Node's type stripping and build in a child process; `npx vite
// --config web/vite.config.ts` uses the default export for a dev server that proxies the API.
import type { UserConfig } from 'vite';
import path from 'node:path';

const root = import.meta.dirname;

/** The platform a dev server proxies to (`npm start` listens on 8080). */
const apiTarget = process.env['CROUPIER_WEB_DEV_API'] ?? 'http://127.0.0.1:8080';
const proxied = ['/api', '/admin', '/.well-known', '/healthz', '/metrics'];

export const webBuildConfig: UserConfig = {
  root,
  base: '/',
  publicDir: path.join(root, 'public'),
  logLevel: 'warn',
  // Vite's own transform handles TSX (React's automatic runtime), so no plugin is needed.
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: path.join(root, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // The apps are small; a warning past this means a dependency crept in.
    chunkSizeWarningLimit: 300,
    rolldownOptions: {
      input: {
        lobby: path.join(root, 'index.html'),
        backoffice: path.join(root, 'backoffice', 'index.html'),
      },
    },
  },
  server: {
    proxy: Object.fromEntries(proxied.map((prefix) => [prefix, { target: apiTarget, changeOrigin: false }])),
  },
};

// Vite's command line reads the default export.
// eslint-disable-next-line no-restricted-syntax
export default webBuildConfig;
