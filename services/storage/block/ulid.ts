import type { Random } from '../../kit/clock';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A ULID (48-bit milliseconds + 80 random bits, Crockford base32): block names sort by creation time, as in tsdb. */
export function newUlid(now: number, random: Random): string {
  let time = '';
  let remaining = Math.max(0, Math.floor(now));
  for (let index = 0; index < 10; index++) {
    time = CROCKFORD[remaining % 32] + time;
    remaining = Math.floor(remaining / 32);
  }
  let randomPart = '';
  for (let index = 0; index < 16; index++) randomPart += CROCKFORD[Math.floor(random() * 32)];
  return time + randomPart;
}

export const isUlid = (name: string) => /^[0-9A-HJKMNP-TV-Z]{26}$/.test(name);
