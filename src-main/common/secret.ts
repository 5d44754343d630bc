// Comparing a secret a peer offers (a token, an Authorization header) with the one expected.

import { timingSafeEqual } from 'node:crypto';

/**
 * Whether `given` is `wanted`, in a time that does not depend on where they differ. Lengths are
 * compared in bytes: a header's latin-1 characters can encode to more bytes than they are
 * characters, and timingSafeEqual throws on buffers of different lengths (that crashed `serve`).
 */
export function sameSecret(given: string | undefined, wanted: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(wanted);
  return a.length === b.length && timingSafeEqual(a, b);
}
