/*
 * Postings lists: ascending, duplicate-free Uint32Arrays of series ids (tsdb/index/postings.go). Every operation
 * returns a new array and never mutates its inputs.
 */

export const EMPTY_POSTINGS: Uint32Array = new Uint32Array(0);

/** Below this length ratio a linear merge beats galloping through the longer list. */
const GALLOP_RATIO = 16;

/** The first index at or after `from` whose id is ≥ `target`: doubling steps, then binary search. */
function gallop(list: Uint32Array, from: number, target: number): number {
  let step = 1;
  let low = from;
  let high = from;
  while (high < list.length && list[high] < target) {
    low = high + 1;
    high += step;
    step *= 2;
  }
  if (high > list.length) high = list.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (list[middle] < target) low = middle + 1;
    else high = middle;
  }
  return low;
}

export function intersect(a: Uint32Array, b: Uint32Array): Uint32Array {
  const [short, long] = a.length <= b.length ? [a, b] : [b, a];
  const output = new Uint32Array(short.length);
  let length = 0;
  if (short.length * GALLOP_RATIO < long.length) {
    let position = 0;
    for (let index = 0; index < short.length && position < long.length; index++) {
      position = gallop(long, position, short[index]);
      if (position < long.length && long[position] === short[index]) output[length++] = short[index];
    }
  } else {
    let left = 0;
    let right = 0;
    while (left < short.length && right < long.length) {
      const shortId = short[left];
      const longId = long[right];
      if (shortId === longId) {
        output[length++] = shortId;
        left++;
        right++;
      } else if (shortId < longId) left++;
      else right++;
    }
  }
  return output.slice(0, length);
}

/** Intersects shortest first, so the running result only shrinks and an empty one stops early. */
export function intersectAll(lists: readonly Uint32Array[]): Uint32Array {
  if (lists.length === 0) throw new RangeError('intersection of no postings lists');
  const ordered = [...lists].sort((left, right) => left.length - right.length);
  let result: Uint32Array = ordered[0].slice();
  for (let index = 1; index < ordered.length && result.length > 0; index++) result = intersect(result, ordered[index]);
  return result;
}

function mergeTwo(a: Uint32Array, b: Uint32Array): Uint32Array {
  const output = new Uint32Array(a.length + b.length);
  let left = 0;
  let right = 0;
  let length = 0;
  while (left < a.length && right < b.length) {
    const leftId = a[left];
    const rightId = b[right];
    if (leftId === rightId) {
      output[length++] = leftId;
      left++;
      right++;
    } else if (leftId < rightId) {
      output[length++] = leftId;
      left++;
    } else {
      output[length++] = rightId;
      right++;
    }
  }
  while (left < a.length) output[length++] = a[left++];
  while (right < b.length) output[length++] = b[right++];
  return output.slice(0, length);
}

/** Two lists merge; many (a regex over thousands of values) concatenate, sort natively and drop duplicates. */
export function union(lists: readonly Uint32Array[]): Uint32Array {
  if (lists.length === 0) return new Uint32Array(0);
  if (lists.length === 1) return lists[0].slice();
  if (lists.length === 2) return mergeTwo(lists[0], lists[1]);
  let total = 0;
  for (const list of lists) total += list.length;
  const all = new Uint32Array(total);
  let offset = 0;
  for (const list of lists) {
    all.set(list, offset);
    offset += list.length;
  }
  all.sort();
  return uniqueSorted(all);
}

/** a − b. */
export function subtract(a: Uint32Array, b: Uint32Array): Uint32Array {
  const output = new Uint32Array(a.length);
  let length = 0;
  let position = 0;
  const isGalloping = a.length * GALLOP_RATIO < b.length;
  for (let index = 0; index < a.length; index++) {
    const id = a[index];
    if (isGalloping) position = gallop(b, position, id);
    else while (position < b.length && b[position] < id) position++;
    if (position < b.length && b[position] === id) continue;
    output[length++] = id;
  }
  return output.slice(0, length);
}

/** Drops neighbours that repeat in a sorted array, in place; returns the shortened view. */
export function uniqueSorted(sorted: Uint32Array): Uint32Array {
  if (sorted.length === 0) return sorted;
  let length = 1;
  for (let index = 1; index < sorted.length; index++) {
    if (sorted[index] !== sorted[length - 1]) sorted[length++] = sorted[index];
  }
  return sorted.subarray(0, length);
}
