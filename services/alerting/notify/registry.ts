import type { AlertingStore } from '../store/store';
import { channelBody, validateChannel, type Channel } from './channel';

/**
 * The channels in use: those of the `--channels-file` (read-only through the API) and those created through
 * `POST /channels` (persisted in the store). A file channel wins over a stored one of the same name.
 */
export class ChannelRegistry {
  private readonly stored = new Map<string, Channel>();

  constructor(
    private readonly store: AlertingStore,
    private readonly fromFile: ReadonlyMap<string, Channel>,
  ) {}

  load(stored: Map<string, unknown>): void {
    this.stored.clear();
    for (const [name, body] of stored) this.stored.set(name, validateChannel(body));
  }

  get(name: string): Channel | undefined {
    return this.fromFile.get(name) ?? this.stored.get(name);
  }

  list(): Channel[] {
    const names = new Set([...this.fromFile.keys(), ...this.stored.keys()]);
    return [...names].sort().map((name) => this.get(name)!);
  }

  async add(channel: Channel): Promise<void> {
    await this.store.apply([{ collection: 'channels', key: channel.name, value: channelBody(channel) }]);
    this.stored.set(channel.name, channel);
  }

  async remove(name: string): Promise<void> {
    await this.store.apply([{ collection: 'channels', key: name }]);
    this.stored.delete(name);
  }
}
