import { describe, expect, it } from 'vitest';
import { redactConninfo, scrubSecrets } from './redact.js';

describe('redactConninfo', () => {
  it.each([
    ['host=a user=r password=s3cret sslmode=prefer', 'host=a user=r password=******** sslmode=prefer'],
    ["host=a password='with space' port=5", 'host=a password=******** port=5'],
    ["password = 'q\\'x' host=b", 'password = ******** host=b'],
    [
      'postgresql://rep:s3cret@10.0.0.1:5432/db?sslmode=require',
      'postgresql://rep:********@10.0.0.1:5432/db?sslmode=require',
    ],
    [
      'postgres://h/db?password=s3cret&sslmode=verify-full',
      'postgres://h/db?password=********&sslmode=verify-full',
    ],
    ['host=a user=r passfile=/x/.pgpass', 'host=a user=r passfile=/x/.pgpass'],
  ])('%s', (input, expected) => {
    expect(redactConninfo(input)).toBe(expected);
    expect(redactConninfo(input)).not.toContain('s3cret');
  });
});

describe('scrubSecrets', () => {
  it('replaces every occurrence and ignores very short values', () => {
    expect(scrubSecrets('a hunter2 b hunter2', ['hunter2', 'ab'])).toBe('a ******** b ********');
  });
});
