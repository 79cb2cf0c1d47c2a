/**
 * The highest index a majority of `matches` has reached: the commit index candidate of a single (non-joint)
 * configuration. The values are insertion-sorted in descending order into a scratch array (configurations are small,
 * and this avoids allocating on every acknowledgement); the majority-th largest is the answer. An empty
 * configuration commits nothing.
 */
export function committedIndex(matches: Iterable<number>, scratch: number[] = []): number {
  let count = 0;
  for (const match of matches) {
    let position = count;
    while (position > 0 && scratch[position - 1] < match) {
      scratch[position] = scratch[position - 1];
      position--;
    }
    scratch[position] = match;
    count++;
  }
  if (count === 0) return 0;
  const majority = Math.floor(count / 2) + 1;
  return scratch[majority - 1];
}
