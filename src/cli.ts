import { createInterface } from 'node:readline/promises';
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

async function main() {
  const [command, ...rest] = process.argv.slice(2);
  if (!command || command === 'help' || command === '--help') {
    console.log(USAGE);
    return;
  }
  const config = loadConfig();
  const database = await connect({ databaseUrl: config.databaseUrl, poolSize: 2, pgliteDir: config.pgliteDir });
  try {
    await migrate(database);
    if (command === 'migrate') {
      console.log('Migrations applied.');
      return;
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
      console.log(`${result.created ? 'Created' : 'Promoted'} superuser ${result.email} (id ${result.id}).`);
      return;
    }
    console.error(`Unknown command "${command}".\n${USAGE}`);
    process.exitCode = 2;
  } finally {
    await database.close();
  }
}

main().catch((error) => {
  if (error instanceof ConfigError) console.error(error.message);
  else if (error instanceof AppError) {
    const fields = Object.entries(error.options.errors ?? {})
      .filter(([, messages]) => messages.length > 0)
      .map(([field, messages]) => `${field}: ${messages.join(' ')}`);
    console.error(fields.length > 0 ? fields.join('\n') : error.message);
  } else console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
