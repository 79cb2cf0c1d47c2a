/** The sum of every sample of `name` (any labels) in a Prometheus text exposition; undefined when absent. */
export function sumSamples(text: string, name: string): number | undefined {
  let total: number | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    const valueText = rest.startsWith('{') ? rest.slice(labelsEnd(rest) + 1).trim() : rest.trim();
    const value = Number(valueText.split(/\s+/)[0]);
    if (Number.isFinite(value)) total = (total ?? 0) + value;
  }
  return total;
}

/** Index of the `}` closing the label set, skipping braces inside quoted label values. */
function labelsEnd(text: string): number {
  let isQuoted = false;
  for (let index = 1; index < text.length; index++) {
    const character = text[index];
    if (character === '\\') index++;
    else if (character === '"') isQuoted = !isQuoted;
    else if (character === '}' && !isQuoted) return index;
  }
  return text.length;
}

export interface CounterSample {
  value: number;
  at: number;
}

/** Per-second increase between two readings of a counter; a counter that went down restarted from zero. */
export function counterRate(previous: CounterSample | undefined, current: CounterSample): number | undefined {
  if (!previous || current.at <= previous.at) return undefined;
  const increase = current.value >= previous.value ? current.value - previous.value : current.value;
  return increase / ((current.at - previous.at) / 1000);
}
