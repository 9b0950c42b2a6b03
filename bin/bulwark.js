#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm ci` through the prepare script).
import { main } from '../dist/cli/main.js';

// A reader that goes away (`bulwark audit scan … | head`) must end the command quietly, as it ends
// other Unix tools, not with an unhandled 'error' event and a stack trace. 141 = 128 + SIGPIPE,
// what a shell reports for a tool killed by SIGPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err && err.code === 'EPIPE') process.exit(141);
    throw err;
  });
}

main(process.argv).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`bulwark: ${err && err.message ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
