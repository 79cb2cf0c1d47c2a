import fs from 'node:fs/promises';
import path from 'node:path';
import {
  COLLECTIONS,
  emptyData,
  isConfiguration,
  type AlertingStore,
  type Collection,
  type StoreChange,
  type StoreData,
} from './store';

/**
 * The single-process store: the whole state in one JSON file, `<data-dir>/alerting.json`, replaced atomically the
 * tsdb way (write `alerting.json.tmp`, fsync, rename, fsync the directory). A crash leaves either the old or the new
 * file, never a torn one; leftover `*.tmp` files are removed at start-up.
 *
 * Writes are group-committed: changes applied while a write is in flight wait for the next one, which carries all of
 * them, so the file is rewritten at most once at a time however many deliveries and evaluations complete together.
 *
 * Format (API.md, "Data directory"): `{"format": 1, "version": n, "collections": {"rules": {key: value}, ...}}`.
 */
export const FILE_NAME = 'alerting.json';

export class FileStore implements AlertingStore {
  private data: StoreData = emptyData();
  private version = 0;
  private writing: Promise<void> | undefined;
  private waiting: { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } | undefined;

  private constructor(private readonly directory: string) {}

  static async open(directory: string): Promise<FileStore> {
    await fs.mkdir(directory, { recursive: true });
    for (const name of await fs.readdir(directory))
      if (name.endsWith('.tmp')) await fs.rm(path.join(directory, name), { force: true });
    const store = new FileStore(directory);
    let text: string | undefined;
    try {
      text = await fs.readFile(path.join(directory, FILE_NAME), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (text !== undefined) {
      const parsed = JSON.parse(text) as { version: number; collections: Record<string, Record<string, unknown>> };
      store.version = parsed.version;
      for (const collection of COLLECTIONS)
        store.data[collection] = new Map(Object.entries(parsed.collections[collection] ?? {}));
    }
    return store;
  }

  async load(): Promise<StoreData> {
    return Object.fromEntries(
      COLLECTIONS.map((collection) => [collection, new Map(this.data[collection])]),
    ) as StoreData;
  }

  async loadCollection(collection: Collection): Promise<Map<string, unknown>> {
    return new Map(this.data[collection]);
  }

  async configurationVersion(): Promise<number> {
    return this.version;
  }

  apply(changes: readonly StoreChange[]): Promise<void> {
    for (const change of changes) {
      if (change.value === undefined) this.data[change.collection].delete(change.key);
      else this.data[change.collection].set(change.key, change.value);
      if (isConfiguration(change.collection)) this.version++;
    }
    return this.scheduleWrite();
  }

  async close(): Promise<void> {
    while (this.writing || this.waiting) await (this.waiting?.promise ?? this.writing)?.catch(() => undefined);
  }

  private scheduleWrite(): Promise<void> {
    if (!this.waiting) {
      let resolve!: () => void;
      let reject!: (error: unknown) => void;
      const promise = new Promise<void>((done, fail) => {
        resolve = done;
        reject = fail;
      });
      this.waiting = { promise, resolve, reject };
    }
    const { promise } = this.waiting;
    if (!this.writing) this.startNextWrite();
    return promise;
  }

  /** Writes everything applied so far; changes applied meanwhile wait for the write after it. */
  private startNextWrite(): void {
    const batch = this.waiting;
    if (!batch) return;
    this.waiting = undefined;
    this.writing = this.write()
      .then(batch.resolve, batch.reject)
      .finally(() => {
        this.writing = undefined;
        this.startNextWrite();
      });
  }

  private async write(): Promise<void> {
    const collections = Object.fromEntries(
      COLLECTIONS.map((collection) => [collection, Object.fromEntries(this.data[collection])]),
    );
    const text = JSON.stringify({ format: 1, version: this.version, collections });
    const target = path.join(this.directory, FILE_NAME);
    const temporary = `${target}.tmp`;
    const handle = await fs.open(temporary, 'w');
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temporary, target);
    const directory = await fs.open(this.directory, 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  }
}
