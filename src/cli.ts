import { realpathSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { ConfigError, loadConfig } from './core/config.js';
import { connect, migrate } from './core/db.js';
import { AppError } from './core/errors.js';

/**
 * Admin commands: `migrate`, `create-superuser [--email E] [--password P]` (asks for what is missing).
 * On the embedded database the server must be stopped first (one process owns a PGlite folder).
 */

const USAGE = `Usage: npm run cli -- <command>
  migrate                                   apply pending migrations
  create-superuser [--email E] [--password P]   create (or promote) a platform superuser`;

async function ask(question: string, hidden = false): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  if (hidden) {
    // Echo nothing while the password is typed.
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
      if (s.includes(question)) process.stdout.write(question);
    };
  }
  const answer = await rl.question(question);
  rl.close();
  if (hidden) process.stdout.write('\n');
  return answer.trim();
}

/** Where a run reads its settings and writes its messages: the process's own, or a test's. */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  out: (line: string) => void;
  err: (line: string) => void;
}

const PROCESS_IO: CliIo = { env: process.env, out: (line) => console.log(line), err: (line) => console.error(line) };

/** Runs one command and answers its exit code: 0 done, 1 refused or failed (the reason on `err`), 2 unknown. */
export async function runCli(args: string[], io: CliIo = PROCESS_IO): Promise<number> {
  try {
    return await run(args, io);
  } catch (error) {
    io.err(describe(error));
    return 1;
  }
}

async function run([command, ...rest]: string[], io: CliIo): Promise<number> {
  if (!command || command === 'help' || command === '--help') {
    io.out(USAGE);
    return 0;
  }
  const config = loadConfig(io.env);
  const database = await connect({ databaseUrl: config.databaseUrl, poolSize: 2, pgliteDir: config.pgliteDir });
  try {
    await migrate(database);
    if (command === 'migrate') {
      io.out('Migrations applied.');
      return 0;
    }
    if (command === 'create-superuser') {
      const { values } = parseArgs({ args: rest, options: { email: { type: 'string' }, password: { type: 'string' } } });
      const email = values.email ?? (await ask('Email: '));
      const password = values.password ?? (await ask('Password: ', true));
      // The modules are loaded only by the command that uses them: `migrate` (run at every deploy) needs none.
      const { createServices } = await import('./modules.js');
      const log = pino({ level: 'warn' });
      const services = createServices({ config, database, db: database.db, redis: null, log });
      const result = await services.auth.createSuperuser({ email, password });
      io.out(`${result.created ? 'Created' : 'Promoted'} superuser ${result.email} (id ${result.id}).`);
      return 0;
    }
    io.err(`Unknown command "${command}".\n${USAGE}`);
    return 2;
  } finally {
    await database.close();
  }
}

/** A refusal as a person reads it: a bad setting's message, or each field with what is wrong with it. */
function describe(error: unknown): string {
  if (error instanceof ConfigError) return error.message;
  if (error instanceof AppError) {
    const fields = Object.entries(error.options.errors ?? {})
      .filter(([, messages]) => messages.length > 0)
      .map(([field, messages]) => `${field}: ${messages.join(' ')}`);
    return fields.length > 0 ? fields.join('\n') : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

// Run as a program (node dist/src/cli.js, tsx src/cli.ts), not when a test imports runCli. The entry's path is
// compared as the loader resolved this module's URL, through any symbolic link.
const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(realpathSync(entry)).href) {
  const code = await runCli(process.argv.slice(2));
  // A failed run may leave handles open (a half-started database): it ends here rather than hanging.
  if (code === 1) process.exit(1);
  process.exitCode = code;
}
