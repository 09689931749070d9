import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/core/config.js';
import { PROJECT_ROOT } from '../src/core/db.js';

/** core/config.ts: the only reader of the environment; every problem reported at once. */

const dataDir = () => mkdtempSync(join(tmpdir(), 'cf-config-'));
const SECRET = 'a-secret-key-that-is-long-enough-for-signing-tokens';
const INTEGRATION_KEY = Buffer.alloc(32, 7).toString('base64');

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig({ DATA_DIR: dataDir(), SECRET_KEY: SECRET, INTEGRATION_KEY, ...env });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('has working defaults with nothing set', () => {
    const dir = dataDir();
    const config = loadConfig({ DATA_DIR: dir });
    expect(config).toMatchObject({ env: 'development', port: 8000, databaseUrl: null, redisUrl: null, corsOrigins: [] });
    expect(config.pgliteDir).toBe(join(dir, 'pglite'));
    expect(config.throttle.disabled).toBe(false);
    expect(config.throttle.rates.default).toEqual({ max: 1200, windowSeconds: 60 });
  });

  it('reads what it is given', () => {
    const config = loadConfig({
      DATA_DIR: dataDir(),
      SECRET_KEY: SECRET,
      PORT: '9001',
      DATABASE_URL: 'postgres://user@db.internal:5432/app',
      REDIS_URL: 'redis://127.0.0.1:6379',
      THROTTLE_RATES: 'auth=20/min, planner=5/10s,default=3/hour',
      THROTTLE_DISABLED: 'yes',
      CORS_ORIGINS: 'https://a.example.com, http://localhost:3000',
      PUBLIC_URL: 'https://api.example.com/',
    });
    expect(config.port).toBe(9001);
    expect(config.databaseUrl).toBe('postgres://user@db.internal:5432/app');
    expect(config.throttle.rates.auth).toEqual({ max: 20, windowSeconds: 60 });
    expect(config.throttle.rates.planner).toEqual({ max: 5, windowSeconds: 10 });
    expect(config.throttle.rates.default).toEqual({ max: 3, windowSeconds: 3600 });
    expect(config.throttle.rates.writer).toEqual({ max: 600, windowSeconds: 60 });
    expect(config.throttle.disabled).toBe(true);
    expect(config.corsOrigins).toEqual(['https://a.example.com', 'http://localhost:3000']);
    expect(config.publicUrl).toBe('https://api.example.com');
  });

  it('reports every problem at once, naming each variable', () => {
    const found = problems({
      PORT: '80a',
      DATABASE_URL: 'mysql://localhost/app',
      THROTTLE_RATES: 'auth=20/min,nope=1/min,default=fast',
      LOG_LEVEL: 'loud',
      THROTTLE_DISABLED: 'maybe',
      CORS_ORIGINS: 'app.example.com',
    });
    const named = (variable: string) => found.filter((p) => p.startsWith(`${variable}:`));
    expect(named('PORT')).toHaveLength(1);
    expect(named('DATABASE_URL')).toHaveLength(1);
    expect(named('THROTTLE_RATES')).toHaveLength(2);
    expect(named('THROTTLE_RATES').join(' ')).toMatch(/"nope=1\/min".*"default=fast"/);
    expect(named('LOG_LEVEL')).toHaveLength(1);
    expect(named('THROTTLE_DISABLED')).toHaveLength(1);
    expect(named('CORS_ORIGINS')).toHaveLength(1);
    expect(found).toHaveLength(7);
  });

  it('the error message lists every problem, one a line', () => {
    try {
      loadConfig({ DATA_DIR: dataDir(), PORT: '70000', DATABASE_URL: 'not a url' });
      expect.unreachable();
    } catch (error) {
      const lines = (error as Error).message.split('\n');
      expect(lines[0]).toBe('Invalid configuration:');
      expect(lines.slice(1).sort()).toEqual([
        expect.stringMatching(/^ {2}- DATABASE_URL: /),
        expect.stringMatching(/^ {2}- PORT: /),
      ]);
    }
  });

  it('hashes passwords at the standard cost unless a test suite asks for less, which production refuses', () => {
    expect(loadConfig({ DATA_DIR: dataDir() }).passwordHashCost).toBe('standard');
    expect(loadConfig({ DATA_DIR: dataDir(), PASSWORD_HASH_COST: 'test' }).passwordHashCost).toBe('test');
    expect(problems({ NODE_ENV: 'production', PASSWORD_HASH_COST: 'test' })).toEqual([
      expect.stringMatching(/^PASSWORD_HASH_COST: .*refused when NODE_ENV=production/),
    ]);
  });

  it.each(['-1', '65536', '8000.5', 'eighty'])('PORT=%s is refused', (port) => {
    expect(problems({ PORT: port })).toEqual([expect.stringMatching(/^PORT: must be a whole number from 0 to 65535/)]);
  });

  it('reads a timeout in seconds with decimals, and refuses one that is no number of seconds', () => {
    const config = loadConfig({
      DATA_DIR: dataDir(),
      SECRET_KEY: SECRET,
      AI_TIMEOUT_SECONDS: '0.5',
      WORDPRESS_TIMEOUT_SECONDS: '2',
    });
    expect([config.ai.timeoutSeconds, config.wordpressTimeoutSeconds]).toEqual([0.5, 2]);
    expect(problems({ AI_TIMEOUT_SECONDS: '0', WORDPRESS_TIMEOUT_SECONDS: 'soon' })).toEqual([
      expect.stringMatching(/^AI_TIMEOUT_SECONDS: must be a number of seconds from 0.1 to 3600/),
      expect.stringMatching(/^WORDPRESS_TIMEOUT_SECONDS: must be a number of seconds from 0.1 to 600/),
    ]);
  });

  it.each(['mysql://db/app', 'http://db/app', 'db.internal:5432'])('DATABASE_URL=%s is refused', (url) => {
    expect(problems({ DATABASE_URL: url })).toEqual([expect.stringMatching(/^DATABASE_URL: /)]);
  });

  it.each(['auth', 'auth=0/min', 'auth=5/fortnight', 'AUTH=5/min', 'auth=5'])('THROTTLE_RATES=%s is refused', (rates) => {
    expect(problems({ THROTTLE_RATES: rates })).toEqual([expect.stringMatching(/^THROTTLE_RATES: /)]);
  });

  it('generates SECRET_KEY once outside production and keeps it in DATA_DIR', () => {
    const dir = dataDir();
    const first = loadConfig({ DATA_DIR: dir });
    expect(first.secretKey.length).toBeGreaterThanOrEqual(32);
    const file = join(dir, 'secret_key');
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim()).toBe(first.secretKey);
    expect(loadConfig({ DATA_DIR: dir }).secretKey).toBe(first.secretKey);
    expect(loadConfig({ DATA_DIR: dataDir() }).secretKey).not.toBe(first.secretKey);
  });

  it('a given SECRET_KEY wins and nothing is written', () => {
    const dir = dataDir();
    expect(loadConfig({ DATA_DIR: dir, SECRET_KEY: SECRET }).secretKey).toBe(SECRET);
    expect(existsSync(join(dir, 'secret_key'))).toBe(false);
  });

  it('production requires SECRET_KEY, and a short one is refused anywhere', () => {
    const dir = dataDir();
    expect(problems({ NODE_ENV: 'production', SECRET_KEY: '' })).toEqual([expect.stringMatching(/^SECRET_KEY: is required/)]);
    expect(existsSync(join(dir, 'secret_key'))).toBe(false);
    expect(problems({ SECRET_KEY: 'short' })).toEqual([expect.stringMatching(/^SECRET_KEY: must be at least 32/)]);
    expect(loadConfig({ NODE_ENV: 'production', SECRET_KEY: SECRET, INTEGRATION_KEY, DATA_DIR: dir }).env).toBe('production');
  });

  it('production requires INTEGRATION_KEY; elsewhere one is generated once into DATA_DIR; old keys still decrypt', () => {
    expect(problems({ NODE_ENV: 'production', INTEGRATION_KEY: '' })).toEqual([
      expect.stringMatching(/^INTEGRATION_KEY: is required/),
    ]);
    expect(problems({ INTEGRATION_KEY: 'c2hvcnQ=' })).toEqual([expect.stringMatching(/^INTEGRATION_KEY: must be 32 bytes/)]);
    const dir = dataDir();
    const first = loadConfig({ DATA_DIR: dir, SECRET_KEY: SECRET }).integrationKeys.current;
    expect(first.key.length).toBe(32);
    expect(statSync(join(dir, 'integration_key')).mode & 0o777).toBe(0o600);
    expect(loadConfig({ DATA_DIR: dir, SECRET_KEY: SECRET }).integrationKeys.current).toEqual(first);
    const hex = Buffer.alloc(32, 9).toString('hex');
    const rotated = loadConfig({
      DATA_DIR: dir,
      SECRET_KEY: SECRET,
      INTEGRATION_KEY: hex,
      INTEGRATION_KEYS_PREVIOUS: INTEGRATION_KEY,
    });
    expect(rotated.integrationKeys.current.key).toEqual(Buffer.alloc(32, 9));
    expect(rotated.integrationKeys.previous.map((k) => k.key)).toEqual([Buffer.alloc(32, 7)]);
    expect(rotated.integrationKeys.current.id).toMatch(/^[0-9a-f]{8}$/);
  });

  it('stores files in DATA_DIR/media unless S3 is configured, and then in the bucket', () => {
    const dir = dataDir();
    expect(loadConfig({ DATA_DIR: dir, SECRET_KEY: SECRET }).storage).toEqual({ dir: join(dir, 'media'), s3: null });
    const s3 = { S3_BUCKET: 'media.example', S3_ACCESS_KEY_ID: 'AKIA1', S3_SECRET_ACCESS_KEY: 'secret' };
    expect(loadConfig({ DATA_DIR: dir, SECRET_KEY: SECRET, ...s3 }).storage.s3).toEqual({
      bucket: 'media.example',
      endpoint: null,
      region: 'us-east-1',
      accessKeyId: 'AKIA1',
      secretAccessKey: 'secret',
      forcePathStyle: false,
    });
    const minio = loadConfig({
      DATA_DIR: dir,
      SECRET_KEY: SECRET,
      ...s3,
      S3_ENDPOINT: 'http://127.0.0.1:9000/',
      S3_REGION: 'eu-1',
    });
    expect(minio.storage.s3).toMatchObject({ endpoint: 'http://127.0.0.1:9000', region: 'eu-1', forcePathStyle: true });
    const virtualHosts = loadConfig({
      DATA_DIR: dir,
      SECRET_KEY: SECRET,
      ...s3,
      S3_ENDPOINT: 'https://r2.example',
      S3_FORCE_PATH_STYLE: 'false',
    });
    expect(virtualHosts.storage.s3?.forcePathStyle).toBe(false);
  });

  it('refuses a partial S3 configuration at start, in one problem naming what is missing', () => {
    expect(problems({ S3_ENDPOINT: 'http://127.0.0.1:9000', S3_ACCESS_KEY_ID: 'AKIA1' })).toEqual([
      expect.stringMatching(
        /^S3_BUCKET, S3_SECRET_ACCESS_KEY: required for S3 storage, which S3_ENDPOINT, S3_ACCESS_KEY_ID ask for/,
      ),
    ]);
    expect(problems({ S3_BUCKET: 'media' })).toEqual([
      expect.stringMatching(/^S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY: required for S3 storage, which S3_BUCKET asks for/),
    ]);
    expect(
      problems({ S3_BUCKET: 'Not_A_Bucket', S3_ACCESS_KEY_ID: 'a', S3_SECRET_ACCESS_KEY: 'b', S3_ENDPOINT: 'ftp://x' }),
    ).toEqual([
      expect.stringMatching(/^S3_ENDPOINT: must be a http:\/\/ or https:\/\/ URL/),
      expect.stringMatching(/^S3_BUCKET: "Not_A_Bucket" is not a bucket name/),
    ]);
  });
});

describe('.env.example and the README', () => {
  // Every variable config.ts reads, found in its source: the list cannot drift from the code.
  const source = readFileSync(join(PROJECT_ROOT, 'src/core/config.ts'), 'utf8');
  const variables = [...new Set([...source.matchAll(/read\.\w+\(\s*'([A-Z][A-Z0-9_]+)'/g)].map((m) => m[1] as string))];

  it('config.ts reads variables (the pattern still finds them)', () => {
    expect(variables).toEqual(expect.arrayContaining(['PORT', 'DATABASE_URL', 'SECRET_KEY', 'REDIS_URL', 'THROTTLE_RATES']));
  });

  it('.env.example lists every variable config.ts reads, each with a comment', () => {
    const example = readFileSync(join(PROJECT_ROOT, '.env.example'), 'utf8');
    for (const name of variables) {
      const line = new RegExp(`^#?\\s*${name}=`, 'm');
      expect(example, name).toMatch(line);
      // The nearest line above that is not itself a variable (set or commented out) is its comment.
      const above = example.slice(0, example.search(line)).trimEnd().split('\n').reverse();
      const comment = above.find((l) => !/^#?\s*[A-Z][A-Z0-9_]+=/.test(l)) ?? '';
      expect(/^# \S/.test(comment) && !comment.startsWith('# ---'), `${name} has a comment above it`).toBe(true);
    }
  });

  it('the README configuration table names every variable', () => {
    const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
    for (const name of variables) expect(readme, name).toContain(`\`${name}\``);
  });
});
