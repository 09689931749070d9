import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUp, uniqueEmail } from '../../../test/factories.js';
import { buildTestApp, type TestApp } from '../../../test/harness.js';

/** Rule errors (the password policy, blank names) come in the same 400 as the schema's field errors. */

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t.close());

const register = (payload: Record<string, unknown>) => t.request({ method: 'POST', url: '/api/v1/auth/register/', payload });

describe('rules and schema errors in one answer', () => {
  it('reports a common password together with a blank account name and a bad email', async () => {
    const res = await register({ email: 'not-an-email', password: 'password', account_name: '' });
    expect(res.statusCode).toBe(400);
    const { errors } = res.json();
    expect(errors.password).toEqual(['This password is too common; choose another.']);
    expect(errors.account_name).toEqual(['This field may not be blank.']);
    expect(errors.email).toHaveLength(1);
  });

  it('reports every rule at once when the schema accepts the body', async () => {
    const res = await register({ email: uniqueEmail(), password: 'password', account_name: '   ' });
    expect(res.statusCode).toBe(400);
    expect(Object.keys(res.json().errors).filter((f) => f !== 'non_field_errors')).toEqual(['password', 'account_name']);
    expect(res.json().code).toBe('validation_error');
  });

  it('a camelCase body meets the same rules; a good body passes them', async () => {
    const owner = await signUp(t);
    const change = await t.request({
      method: 'POST',
      url: '/api/v1/auth/change-password/',
      headers: owner.headers,
      payload: { oldPassword: '', newPassword: 'password' },
    });
    expect(change.statusCode).toBe(400);
    expect(Object.keys(change.json().errors)).toEqual(expect.arrayContaining(['old_password', 'new_password']));
    const ok = await register({ email: uniqueEmail(), password: 'a long unusual passphrase', account_name: 'Trail' });
    expect(ok.statusCode, ok.body).toBe(201);
  });
});
