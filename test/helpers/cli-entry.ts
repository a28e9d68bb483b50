// Child-process entry for CLI tests: runs the real CLI from source with this process's argv.
import { main } from '../../src/cli/main.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`proxy-hopper: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  },
);
