/**
 * The list of common passwords the policy refuses (`common-passwords.txt`, lower-case, one a line, `#`
 * comments). Read once, on first use; a password is compared lower-cased and also with its separators
 * (space - _ .) removed, so `Password-123` is `password123`.
 */
import { readFileSync } from 'node:fs';

let list: Set<string> | undefined;

function commonPasswords(): Set<string> {
  list ??= new Set(
    readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#')),
  );
  return list;
}

export function isCommonPassword(password: string): boolean {
  const lower = password.toLowerCase();
  const set = commonPasswords();
  return set.has(lower) || set.has(lower.replace(/[\s._-]+/g, ''));
}
