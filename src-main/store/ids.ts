// Short, readable random ids such as "r7f3k2q9": a kind letter and 7 characters that survive being read
// aloud or typed (no 0/o, 1/l/i). 31^7 ≈ 2.8e10 ids per kind; callers retry on the rare collision.
import { randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

export type IdKind = 'r' | 's' | 'd'; // run, sweep, dataset

export function newId(kind: IdKind, length = 7): string {
  let out: string = kind;
  while (out.length <= length) {
    for (const b of randomBytes(length * 2)) {
      // 248 = 31 · 8: rejecting the top of the byte range keeps every character equally likely.
      if (b < 248 && out.length <= length) out += ALPHABET[b % ALPHABET.length];
    }
  }
  return out;
}
