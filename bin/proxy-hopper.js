#!/usr/bin/env node
// Entry point of the installed `proxy-hopper` command. `npm ci` builds dist/ through the
// `prepare` script, so the compiled CLI is always present next to this file.
import { main } from '../dist/cli/main.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`proxy-hopper: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  },
);
