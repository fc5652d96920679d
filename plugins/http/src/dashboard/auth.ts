import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { authorized } from '../guarded-server';
import { loopbackHostHeader } from '../listen-address';

const SESSION_COOKIE = 'booster_session';
/** Sent by the page's fetch on every mutating request: a cross-site form cannot set it, and a cross-site fetch with it needs a CORS preflight we never grant. */
const CSRF_HEADER = 'x-booster-csrf';

/**
 * Who may see the dashboard. Bound to loopback: anyone on this machine, but
 * the Host header must name loopback (a DNS-rebinding page cannot pass).
 * Bound elsewhere: a bearer token (the network's HTTP token) or a session
 * cookie obtained by posting that token to /login (HttpOnly, SameSite=Strict,
 * so scripts cannot read it and other sites' requests do not carry it).
 */
export class DashboardAuth {
  /** Session id → expiry (epoch ms), oldest first. */
  private readonly sessions = new Map<string, number>();

  constructor(
    readonly requiresToken: boolean,
    private readonly verifyToken: (token: string) => boolean,
    private readonly limits: { readonly maxSessions: number; readonly sessionMs: number },
    private readonly now: () => number = Date.now,
  ) {}

  /** Why the request may not read the dashboard, or undefined when it may. */
  refusal(req: IncomingMessage): { status: number; message: string } | undefined {
    if (!this.requiresToken) {
      if (!loopbackHostHeader(req.headers.host)) return { status: 403, message: 'the Host header must name this machine (127.0.0.1, [::1] or localhost)' };
      return undefined;
    }
    if (authorized(req.headers.authorization, this.verifyToken) || this.session(req)) return undefined;
    return { status: 401, message: 'log in with the network HTTP token (booster key show --http-token)' };
  }

  /** Checks a token posted to /login and opens a session for it; undefined for a wrong token. */
  login(token: string): { cookie: string } | undefined {
    if (!this.verifyToken(token)) return undefined;
    const id = randomBytes(32).toString('base64url');
    this.prune();
    while (this.sessions.size >= this.limits.maxSessions) this.sessions.delete(this.sessions.keys().next().value as string);
    this.sessions.set(id, this.now() + this.limits.sessionMs);
    const maxAge = Math.floor(this.limits.sessionMs / 1000);
    return { cookie: `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAge}` };
  }

  logout(req: IncomingMessage): string {
    const id = cookie(req.headers.cookie, SESSION_COOKIE);
    if (id) this.sessions.delete(id);
    return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
  }

  private session(req: IncomingMessage): boolean {
    const id = cookie(req.headers.cookie, SESSION_COOKIE);
    if (!id || id.length > 64) return false;
    const candidate = Buffer.from(id);
    for (const [known, expires] of this.sessions) {
      const k = Buffer.from(known);
      if (k.length === candidate.length && timingSafeEqual(k, candidate)) {
        if (expires > this.now()) return true;
        this.sessions.delete(known);
        return false;
      }
    }
    return false;
  }

  private prune(): void {
    const t = this.now();
    for (const [id, expires] of this.sessions) if (expires <= t) this.sessions.delete(id);
  }
}

/**
 * Cross-site request forgery and WebSocket hijacking: a state-changing request
 * and a WebSocket upgrade must come from a page of this very origin (Origin
 * equals http://<Host>); a mutating request must also carry CSRF_HEADER.
 */
export function crossSiteRefusal(req: IncomingMessage, mutating: boolean): string | undefined {
  const origin = req.headers.origin;
  if (!origin) return 'the Origin header is required';
  if (origin !== `http://${req.headers.host ?? ''}`) return `cross-origin request refused (Origin ${origin.slice(0, 100)})`;
  if (mutating && req.headers[CSRF_HEADER] !== '1') return `the ${CSRF_HEADER} header is required`;
  return undefined;
}

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
