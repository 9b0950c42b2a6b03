// Defaults of the webhook server, in a module of their own: the CLI shows them in --help
// without loading express (webhook/server.ts re-exports them).
export const DEFAULT_PORT = 8443;
export const DEFAULT_ADDRESS = '0.0.0.0';
/** What `bulwark serve` (and so `npm start`) binds when neither --address nor server.address says: loopback only. */
export const SERVE_DEFAULT_ADDRESS = '127.0.0.1';
export const DEFAULT_SERVER_NAMESPACE = 'bulwark-system';
export const DEFAULT_SHUTDOWN_GRACE_MS = 25_000;
