// The limits every HTTPS listener of Bulwark keeps (webhook, metrics, alerts API): a client that
// never finishes its TLS handshake, its headers or its request is cut off, an idle kept-alive
// connection is closed, and the number of open connections is capped, so one pod opening sockets
// cannot exhaust the process. Node's defaults are looser (no cap, headers 60 s, checked every 30 s).
import type https from 'node:https';

export interface ListenerLimits {
  /** TLS handshake, ms. */
  handshakeTimeoutMs: number;
  /** From the connection to the end of the request headers, ms. */
  headersTimeoutMs: number;
  /** The whole request, ms. */
  requestTimeoutMs: number;
  /** An idle kept-alive connection, ms. */
  keepAliveTimeoutMs: number;
  /** Open connections at most; further ones are closed at once. */
  maxConnections: number;
  /** Largest request header block, bytes. */
  maxHeaderSize: number;
}

export const DEFAULT_LISTENER_LIMITS: ListenerLimits = {
  handshakeTimeoutMs: 10_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 65_000,
  maxConnections: 2048,
  maxHeaderSize: 16 * 1024,
};

/** The https.createServer options that carry the limits (with the TLS options the caller adds). */
export function limitOptions(limits: ListenerLimits): https.ServerOptions {
  return {
    handshakeTimeout: limits.handshakeTimeoutMs,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    maxHeaderSize: limits.maxHeaderSize,
    // How often the slow-request timeouts are enforced (Node's default is 30 s).
    connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
  } as https.ServerOptions;
}

/** Applies what can only be set on the server object (and repeats the timeouts, as Node reads them there too). */
export function applyLimits(server: https.Server, limits: ListenerLimits): void {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = limits.maxConnections;
}
