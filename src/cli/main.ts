/** The `proxy-hopper` command line: run, validate, hash-password, hash-key and demo. */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { hashKey, hashPassword } from './hash-commands.js';
import { addRunOptions, type RunFlags } from './run-options.js';
import { runProxyHopper } from './run-command.js';
import { validateConfig } from './validate-command.js';

function packageVersion(): string {
  // src/cli/main.ts and dist/cli/main.js both sit two levels below package.json.
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

async function runDemoCommand(): Promise<number> {
  const { runDemo } = await import('../demo/run.js');
  const result: unknown = await runDemo();
  return typeof result === 'number' ? result : 0;
}

function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command('proxy-hopper')
    .description('Rotating forwarding proxy over a pool of upstream HTTP proxies')
    .version(packageVersion(), '-V, --version', 'print the version')
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({
      writeOut: (text) => process.stdout.write(text),
      writeErr: (text) => process.stderr.write(text),
    });

  addRunOptions(program.command('run').description('start the proxy')).action(
    async (flags: RunFlags) => setExitCode(await runProxyHopper(flags)),
  );

  program
    .command('validate')
    .description('check a config file and print a summary')
    .argument('[file]', 'config file (YAML)')
    .option('-c, --config <path>', 'config file (YAML); also read from PROXY_HOPPER_CONFIG')
    .action((file: string | undefined, flags: { config?: string }) =>
      setExitCode(validateConfig(file, flags.config)),
    );

  program
    .command('hash-password')
    .description('print a bcrypt hash for auth.admin.passwordHash (reads stdin without PASSWORD)')
    .argument('[password]', 'password; omit it to keep it out of shell history')
    .action(async (password: string | undefined) => setExitCode(await hashPassword(password)));

  program
    .command('hash-key')
    .description('print sha256:<hex> for auth.apiKeys[].keyHash (reads stdin without KEY)')
    .argument('[key]', 'API key; omit it to keep it out of shell history')
    .action(async (key: string | undefined) => setExitCode(await hashKey(key)));

  program
    .command('demo')
    .description('start a self-contained demo on loopback')
    .action(async () => setExitCode(await runDemoCommand()));

  return program;
}

/** Runs the CLI with `argv` as in `process.argv` and resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const program = buildProgram((code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    throw err;
  }
  return exitCode;
}
