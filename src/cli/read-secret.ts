/** Reads a secret from stdin, so it stays out of shell history and `ps` output. */

export async function readSecretFromStdin(label: string): Promise<string> {
  if (process.stdin.isTTY)
    process.stderr.write(`Enter the ${label}, then press Enter and Ctrl-D: `);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
  // Only the final line break is dropped: it comes from `echo` or the Enter key, not the secret.
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}
