import { readFile, stat } from 'node:fs/promises';
import type { Logger } from '../../kit/logger';

/** Reads `{"shards": ["http://...", ...]}`; every problem is named. */
function parseShardsFile(text: string, source: string): string[] {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source}: not valid JSON: ${(error as Error).message}`);
  }
  const shards = (document as { shards?: unknown } | null)?.shards;
  if (!Array.isArray(shards) || shards.some((shard) => typeof shard !== 'string' || !/^https?:\/\/\S+$/.test(shard)))
    throw new Error(`${source}: expected {"shards": ["http://host:port", ...]}`);
  return shards as string[];
}

/**
 * The storage shards to query: a fixed list, or a file the operator maintains (a ConfigMap), re-read when its
 * modification time changes. A bad file keeps the previous list and is logged.
 */
export class ShardSet {
  private current: readonly string[];
  private timer?: NodeJS.Timeout;
  private lastModified = 0;

  private constructor(
    initial: readonly string[],
    private readonly file: string | undefined,
    private readonly logger: Logger,
  ) {
    this.current = Object.freeze([...initial]);
  }

  static fixed(urls: readonly string[], logger: Logger): ShardSet {
    return new ShardSet(urls, undefined, logger);
  }

  /** Loads the file once (failing start-up if it is bad), then polls it every `pollMs`. */
  static async fromFile(file: string, pollMs: number, logger: Logger): Promise<ShardSet> {
    const set = new ShardSet([], file, logger);
    await set.reload(true);
    set.timer = setInterval(() => void set.reload(false), pollMs);
    set.timer.unref();
    return set;
  }

  list(): readonly string[] {
    return this.current;
  }

  close(): void {
    clearInterval(this.timer);
  }

  private async reload(isStartup: boolean): Promise<void> {
    const file = this.file!;
    try {
      const modified = (await stat(file)).mtimeMs;
      if (!isStartup && modified === this.lastModified) return;
      // Remembered before parsing, so a bad file is reported once per change rather than on every poll.
      this.lastModified = modified;
      const shards = parseShardsFile(await readFile(file, 'utf8'), file);
      if (shards.join(',') !== this.current.join(',')) {
        this.current = Object.freeze(shards);
        if (!isStartup) this.logger.info('storage shards reloaded', { shards });
      }
    } catch (error) {
      if (isStartup) throw error;
      this.logger.error('cannot reload the shards file; keeping the previous shards', {
        file,
        error: (error as Error).message,
      });
    }
  }
}
