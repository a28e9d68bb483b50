/** Reads a secret from stdin, so it stays out of shell history and `ps` output. */

export async function readSecretFromStdin(label: string): Promise<string> {
  if (process.stdin.isTTY) return readFromTerminal(label);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
  // Only the final line break is dropped: it comes from `echo` or the Enter key, not the secret.
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** Prompts on stderr and reads one line without echoing it; Ctrl-C cancels with exit code 130. */
function readFromTerminal(label: string): Promise<string> {
  const input = process.stdin;
  process.stderr.write(`Enter the ${label} (not shown), then press Enter: `);
  input.setRawMode(true);
  input.resume();
  input.setEncoding('utf8');
  let secret = '';
  return new Promise((resolve) => {
    const finish = (): void => {
      input.removeListener('data', onData);
      input.setRawMode(false);
      input.pause();
      process.stderr.write('\n');
    };
    const onData = (text: string): void => {
      for (const char of text) {
        if (char === '\r' || char === '\n' || char === '\u0004') {
          finish();
          resolve(secret);
          return;
        }
        if (char === '\u0003') {
          finish();
          process.exit(130);
        }
        if (char === '\u007f' || char === '\b') secret = secret.slice(0, -1);
        else secret += char;
      }
    };
    input.on('data', onData);
  });
}
