// The /validate, Namespace (tampering) and HTTP suites once more, with every review judged on the
// review worker thread (threshold 0): the worker must answer, count, log and alert exactly as the
// server's thread does.
import { offloadAll } from './support.js';

offloadAll.on = true;
await import('./validate.test.js');
await import('./tampering.test.js');
await import('./http.test.js');
