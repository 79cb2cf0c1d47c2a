import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic, writeFileAtomicAsync } from './atomic-file';

/** What Raft must remember across a crash: the current term, the vote in it, and how far the log is committed. */
export interface HardState {
  term: number;
  vote: string | null;
  commit: number;
}

const FILE_NAME = 'hard-state.json';

export const emptyHardState: HardState = { term: 0, vote: null, commit: 0 };

export function readHardState(directory: string): HardState {
  const file = path.join(directory, FILE_NAME);
  if (!fs.existsSync(file)) return { ...emptyHardState };
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as HardState;
  return { term: parsed.term, vote: parsed.vote, commit: parsed.commit };
}

/** Written whole through a temporary file and a rename: a crash leaves the old state or the new one, never a mix. */
export function writeHardState(directory: string, state: HardState): void {
  writeFileAtomic(path.join(directory, FILE_NAME), JSON.stringify(state));
}

/** The same, without blocking the event loop; callers serialise writes to one directory (last one wins). */
export function writeHardStateAsync(directory: string, state: HardState): Promise<void> {
  return writeFileAtomicAsync(path.join(directory, FILE_NAME), JSON.stringify(state));
}
