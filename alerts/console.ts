// The web console (GET /ui/ on the alerts API's port): the page and its assets, and the browser
// session that carries the API's own credential.
//
// Sign-in posts a bearer token (the one the API accepts) to /ui/session; it is checked like any
// API call and then kept only in a `__Host-` cookie that is Secure, HttpOnly and SameSite=Strict:
// the page's script never holds it, so nothing in localStorage or a URL. Every replica can read the
// cookie (no server-side session), and every request re-checks the token (TokenReview answers are
// cached as for the API). State changes through the cookie need a same-origin proof (csrfRefusal).
//
// The page is static: HTML and CSS from ui/, the scripts tsc built from ui/src into dist/ui/. The
// Content-Security-Policy allows only this origin's scripts, styles and fetches: no inline
// script, no CDN, no third-party request.
import fs from 'node:fs';
import path from 'node:path';
import express, { type Request, type Response } from 'express';
import { asset } from '../core/paths.js';

export const SESSION_COOKIE = '__Host-bulwark-session';
/** The header the console sends with every state change (a cross-site form or image cannot). */
export const CONSOLE_HEADER = 'x-bulwark-console';
/** A cookie over 4 KiB is dropped by browsers: a token longer than this cannot be a session. */
export const MAX_SESSION_TOKEN = 3000;

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers on every answer of the console's port: the page cannot be framed, sniffed or leak its URL. */
export function securityHeaders(res: Response): void {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=()');
}

/** The session token in the request's cookie, if any. */
export function sessionToken(req: Request): string | undefined {
  const header = req.headers.cookie;
  if (!header || header.length > 16_384) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    if (!/^[A-Za-z0-9_-]{1,4096}$/.test(value)) return undefined;
    const token = Buffer.from(value, 'base64url').toString('utf8');
    return token === '' ? undefined : token;
  }
  return undefined;
}

export function setSessionCookie(res: Response, token: string): void {
  res.append('Set-Cookie', `${SESSION_COOKIE}=${Buffer.from(token, 'utf8').toString('base64url')}; Path=/; Secure; HttpOnly; SameSite=Strict`);
}

export function clearSessionCookie(res: Response): void {
  res.append('Set-Cookie', `${SESSION_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0`);
}

/**
 * Why a state change that rides on the session cookie is refused (undefined: allowed). It must
 * carry the console's header, which a cross-site form, link or image cannot send and a cross-site
 * script cannot either without a CORS preflight this server never grants; and the browser's own
 * Origin and Sec-Fetch-Site, when sent, must say same origin.
 */
export function csrfRefusal(req: Request): string | undefined {
  if (req.headers[CONSOLE_HEADER] !== '1') return `a change through the console session needs the header ${CONSOLE_HEADER}: 1`;
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin')
    return `a change through the console session must come from the console's own origin (Sec-Fetch-Site: ${site})`;
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `https://${req.headers.host ?? ''}`)
    return `a change through the console session must come from the console's own origin (Origin: ${origin.slice(0, 200)})`;
  return undefined;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.html': 'text/html; charset=utf-8',
};

/** The console's files: name → content, read once (a fixed set; nothing else under /ui/assets/ is served). */
export interface ConsoleAssets {
  index: Buffer;
  files: Map<string, { body: Buffer; type: string }>;
}

/** ui/index.html, ui/*.css and ui/*.svg, and the built dist/ui/*.js; undefined when the scripts were not built. */
export function loadConsoleAssets(root = asset()): ConsoleAssets | undefined {
  const source = path.join(root, 'ui');
  const built = path.join(root, 'dist', 'ui');
  if (!fs.existsSync(path.join(built, 'app.js'))) return undefined;
  const files = new Map<string, { body: Buffer; type: string }>();
  const add = (dir: string, exts: string[]) => {
    for (const name of fs.readdirSync(dir)) {
      const ext = path.extname(name);
      if (!exts.includes(ext) || !/^[a-z0-9-]+\.[a-z]+$/.test(name)) continue;
      files.set(name, { body: fs.readFileSync(path.join(dir, name)), type: TYPES[ext]! });
    }
  };
  add(source, ['.css', '.svg']);
  add(built, ['.js']);
  return { index: fs.readFileSync(path.join(source, 'index.html')), files };
}

/** GET /ui/… : the assets, and the page itself for every other path (the page routes in the browser). */
export function consoleRouter(assets: ConsoleAssets | undefined): express.Router {
  const router = express.Router();
  router.get('/assets/:name', (req, res) => {
    const file = assets?.files.get(String(req.params.name));
    if (!file) {
      res.status(404).type('text/plain').send('no such console asset');
      return;
    }
    res.setHeader('Cache-Control', 'no-cache');
    res.type(file.type).send(file.body);
  });
  router.get(/.*/, (_req, res) => {
    if (!assets) {
      res.status(503).type('text/plain').send('the console was not built: run `npm run build` (it compiles ui/src into dist/ui), then restart bulwark serve');
      return;
    }
    res.setHeader('Cache-Control', 'no-cache');
    res.type('html').send(assets.index);
  });
  return router;
}
