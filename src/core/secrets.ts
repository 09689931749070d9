import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { IntegrationKeys } from './config.js';

/**
 * Secrets the platform must read back (integrations' application passwords and webhook secrets, outgoing
 * webhook subscriptions' signing secrets) are kept encrypted at rest: AES-256-GCM under INTEGRATION_KEY, written
 * as `v1.<key id>.<iv>.<tag>.<ciphertext>` (base64url parts). The key id inside each ciphertext lets a key be
 * rotated: INTEGRATION_KEY encrypts, INTEGRATION_KEYS_PREVIOUS still decrypt, and `needsReencryption` tells
 * which rows to rewrite. What the secret belongs to (its row, or its account, and its purpose) is bound in as
 * additional data, so a ciphertext copied onto another row or account does not decrypt there.
 */
export interface SecretBox {
  encrypt(plaintext: string, boundTo: string): string;
  /** Throws SecretUnreadable when no configured key has the ciphertext's id or it was tampered with. */
  decrypt(ciphertext: string, boundTo: string): string;
  needsReencryption(ciphertext: string): boolean;
}

export class SecretUnreadable extends Error {}

const VERSION = 'v1';

export function createSecretBox(keys: IntegrationKeys): SecretBox {
  const byId = new Map([keys.current, ...keys.previous].map((k) => [k.id, k.key]));
  return {
    encrypt(plaintext, boundTo) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', keys.current.key, iv);
      cipher.setAAD(Buffer.from(boundTo));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const parts = [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url'));
      return [VERSION, keys.current.id, ...parts].join('.');
    },
    decrypt(ciphertext, boundTo) {
      const [version, keyId, iv, tag, body] = ciphertext.split('.');
      const key = keyId === undefined ? undefined : byId.get(keyId);
      if (version !== VERSION || key === undefined || iv === undefined || tag === undefined || body === undefined) {
        throw new SecretUnreadable(`encrypted with a key that is not configured (key id ${keyId ?? 'missing'})`);
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
        decipher.setAAD(Buffer.from(boundTo));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw new SecretUnreadable('the stored secret does not decrypt (altered, or bound to another row)');
      }
    },
    needsReencryption(ciphertext) {
      return ciphertext.split('.')[1] !== keys.current.id;
    },
  };
}
