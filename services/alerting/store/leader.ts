import type Redis from 'ioredis';

/**
 * Leadership through a Redis lock, so that of several replicas exactly one evaluates and notifies. Acquire with
 * `SET key id NX PX ttl`; renew with a compare-and-extend script (extend only while the lock still holds our id, so
 * a replica that stalled past its lease cannot extend a lock another has since taken); release with compare-and-delete.
 * A leader that cannot renew before its lease ends steps down on its own, before another can acquire.
 */
const EXTEND = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export interface Leadership {
  isLeader(): boolean;
  close(): Promise<void>;
}

export interface LeaderOptions {
  redis: Redis;
  key: string;
  id: string;
  leaseMs: number;
  onChange(isLeader: boolean): void;
  onError(error: unknown): void;
}

export function electLeader(options: LeaderOptions): Leadership {
  const { redis, key, id, leaseMs } = options;
  let isLeader = false;
  let leaseEndsAt = 0;
  let isClosed = false;
  let timer: NodeJS.Timeout | undefined;

  const setLeader = (value: boolean) => {
    if (value === isLeader || (value && isClosed)) return;
    isLeader = value;
    options.onChange(value);
  };

  async function attempt(): Promise<void> {
    const startedAt = Date.now();
    try {
      const isHeld = isLeader
        ? Number(await redis.eval(EXTEND, 1, key, id, String(leaseMs))) === 1
        : (await redis.set(key, id, 'PX', leaseMs, 'NX')) === 'OK';
      if (isHeld) leaseEndsAt = startedAt + leaseMs;
      setLeader(isHeld);
    } catch (error) {
      options.onError(error);
      // Keep leading only while the lease we know of lasts; after that another replica may hold the lock.
      if (Date.now() >= leaseEndsAt - leaseMs / 3) setLeader(false);
    }
  }

  const loop = async () => {
    await attempt();
    if (!isClosed) timer = setTimeout(loop, Math.max(50, Math.floor(leaseMs / 3)));
  };
  void loop();

  return {
    isLeader: () => isLeader && Date.now() < leaseEndsAt,
    async close() {
      isClosed = true;
      clearTimeout(timer);
      if (isLeader) await redis.eval(RELEASE, 1, key, id).catch(() => undefined);
      setLeader(false);
    },
  };
}
