import { describe, expect, it } from 'vitest';
import { createSecretBox, SecretUnreadable } from '../src/core/secrets.js';

const key = (fill: number, id: string) => ({ id, key: Buffer.alloc(32, fill) });

describe('integration secrets at rest', () => {
  const box = createSecretBox({ current: key(1, 'aaaaaaaa'), previous: [] });

  it('round-trips, never stores the plaintext, and differs every time', () => {
    const first = box.encrypt('abcd efgh ijkl mnop qrst uvwx', 'integration:1:credentials');
    const second = box.encrypt('abcd efgh ijkl mnop qrst uvwx', 'integration:1:credentials');
    expect(first).not.toContain('abcd');
    expect(first).not.toBe(second);
    expect(first.split('.').slice(0, 2)).toEqual(['v1', 'aaaaaaaa']);
    expect(box.decrypt(first, 'integration:1:credentials')).toBe('abcd efgh ijkl mnop qrst uvwx');
  });

  it('refuses a ciphertext moved to another row or purpose, or altered', () => {
    const sealed = box.encrypt('secret', 'integration:1:credentials');
    expect(() => box.decrypt(sealed, 'integration:2:credentials')).toThrow(SecretUnreadable);
    expect(() => box.decrypt(sealed, 'integration:1:webhook_secret')).toThrow(SecretUnreadable);
    const parts = sealed.split('.');
    parts[4] = Buffer.from('tampered').toString('base64url');
    expect(() => box.decrypt(parts.join('.'), 'integration:1:credentials')).toThrow(SecretUnreadable);
  });

  it('rotates: the new key encrypts, the previous one still decrypts, and old ciphertexts are told apart', () => {
    const old = box.encrypt('secret', 'b');
    const rotated = createSecretBox({ current: key(2, 'bbbbbbbb'), previous: [key(1, 'aaaaaaaa')] });
    expect(rotated.decrypt(old, 'b')).toBe('secret');
    expect(rotated.needsReencryption(old)).toBe(true);
    expect(rotated.needsReencryption(rotated.encrypt('secret', 'b'))).toBe(false);
    const forgotten = createSecretBox({ current: key(2, 'bbbbbbbb'), previous: [] });
    expect(() => forgotten.decrypt(old, 'b')).toThrow(/key id aaaaaaaa/);
  });
});
