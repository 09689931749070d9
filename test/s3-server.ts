import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import type { S3Config } from '../src/core/config.js';

/**
 * A real S3-compatible server for tests (s3rver: the S3 REST API over a temporary folder, on 127.0.0.1 port 0),
 * so core/storage.ts's S3 store runs through the AWS SDK unmocked. `env` configures an app to use it.
 */
export interface TestS3 {
  bucket: string;
  endpoint: string;
  config: S3Config;
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startS3(bucket = 'contentflow-test'): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), 'cf-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  // s3rver checks signatures against these fixed credentials.
  const config: S3Config = {
    bucket,
    endpoint,
    region: 'us-east-1',
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    forcePathStyle: true,
  };
  return {
    bucket,
    endpoint,
    config,
    env: { S3_BUCKET: bucket, S3_ENDPOINT: endpoint, S3_ACCESS_KEY_ID: 'S3RVER', S3_SECRET_ACCESS_KEY: 'S3RVER' },
    async close() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
