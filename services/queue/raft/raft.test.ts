import { ConfigChangePendingError, InvalidConfigChangeError, LeadershipTransferError, NotLeaderError } from './errors';
import { Interaction } from './interaction';

/*
 * Scenario scripts after etcd's interaction tests: each step's trace is compared with the expected text.
 * Trace lines: `a ready …` is one Ready handled by peer a; `a->b type term:T …` is a message delivered
 * (`dropped …` when the network lost it). Entries print as index/term. Election timeouts are 15 ticks.
 * After a deliberate change, rerun with `npx jest services/queue/raft -u` and review the diff.
 */

function electedCluster(ids = ['a', 'b', 'c'], options: ConstructorParameters<typeof Interaction>[0] = {}) {
  const cluster = new Interaction(options);
  cluster.addPeers(ids);
  cluster.raft(ids[0]).campaign();
  cluster.stabilize();
  cluster.takeTrace();
  return cluster;
}

describe('election', () => {
  it('elects a leader through pre-vote, then commits its noop entry', () => {
    const cluster = new Interaction();
    cluster.addPeers(['a', 'b', 'c']);
    cluster.raft('a').campaign();
    cluster.stabilize();
    expect(cluster.takeTrace()).toMatchInlineSnapshot(`
     "a ready
     a->b preVote term:1 log:0/0
     a->c preVote term:1 log:0/0
     b ready
     c ready
     b->a preVoteResponse term:1 granted
     c->a preVoteResponse term:1 granted
     a ready hardState term:1 vote:a commit:0
     a->b vote term:1 log:0/0
     a->c vote term:1 log:0/0
     b ready hardState term:1 vote:a commit:0
     c ready hardState term:1 vote:a commit:0
     b->a voteResponse term:1 granted
     c->a voteResponse term:1 granted
     a ready entries [1/1 noop]
     a->b append term:1 prev:0/0 entries:[1/1 noop] commit:0
     a->c append term:1 prev:0/0 entries:[1/1 noop] commit:0
     b ready entries [1/1 noop]
     c ready entries [1/1 noop]
     b->a appendResponse term:1 index:1
     c->a appendResponse term:1 index:1
     a ready hardState term:1 vote:a commit:1; committed [1/1 noop]
     a->b append term:1 prev:1/1 entries:[] commit:1
     a->c append term:1 prev:1/1 entries:[] commit:1
     b ready hardState term:1 vote:a commit:1; committed [1/1 noop]
     c ready hardState term:1 vote:a commit:1; committed [1/1 noop]
     b->a appendResponse term:1 index:1
     c->a appendResponse term:1 index:1"
    `);
    expect(cluster.raft('a').status()).toMatchObject({ role: 'leader', term: 1, commit: 1 });
    expect(cluster.raft('b').status()).toMatchObject({ role: 'follower', leader: 'a', term: 1, commit: 1 });
  });

  it('campaigns when the election timeout fires', () => {
    const cluster = new Interaction();
    cluster.addPeers(['a', 'b', 'c']);
    cluster.tick('b', 14);
    expect(cluster.raft('b').hasReady()).toBe(false);
    cluster.tick('b', 1);
    cluster.stabilize();
    expect(cluster.raft('b').status()).toMatchObject({ role: 'leader', term: 1 });
    expect(cluster.raft('a').status().leader).toBe('b');
  });

  it('turns down a pre-candidate whose log is behind, without anyone raising its term', () => {
    const cluster = electedCluster();
    cluster.isolate('c');
    cluster.propose('a', 'x');
    cluster.stabilize();
    cluster.reconnect('c');
    cluster.expireLeases(['b']);
    cluster.takeTrace();
    cluster.raft('c').campaign();
    cluster.stabilize();
    expect(cluster.takeTrace()).toMatchInlineSnapshot(`
     "c ready
     c->a preVote term:2 log:1/1
     c->b preVote term:2 log:1/1
     b ready
     b->c preVoteResponse term:1 rejected"
    `);
    expect(cluster.raft('c').status()).toMatchObject({ role: 'precandidate', term: 1 });
    expect(cluster.raft('b').status()).toMatchObject({ role: 'follower', term: 1 });
  });
});

describe('stale terms', () => {
  it('a vote request at a stale term is rejected with the newer term, which the candidate adopts', () => {
    const cluster = new Interaction({ isPreVoteEnabled: false });
    cluster.addPeers(['a', 'b', 'c']);
    cluster.isolate('c');
    cluster.tick('c', 45);
    cluster.stabilize();
    cluster.reconnect('c');
    cluster.takeTrace();
    cluster.isolate('b');
    cluster.raft('a').campaign();
    cluster.stabilize();
    expect(cluster.takeTrace()).toContain('c->a voteResponse term:3 rejected');
    expect(cluster.raft('a').status()).toMatchObject({ role: 'follower', term: 3 });
  });
});

describe('pre-vote', () => {
  it('keeps a rejoining partitioned peer from disrupting the leader', () => {
    const cluster = electedCluster();
    cluster.isolate('c');
    // Cut off, c campaigns again and again; without pre-vote its term would climb with every attempt.
    for (let attempt = 0; attempt < 5; attempt++) {
      cluster.tick('c', 15);
      cluster.stabilize();
    }
    expect(cluster.raft('c').status()).toMatchObject({ role: 'precandidate', term: 1 });
    cluster.reconnect('c');
    cluster.takeTrace();
    cluster.tick('c', 15);
    cluster.stabilize();
    // a and b heard from the leader within the election timeout: they ignore the pre-vote altogether.
    expect(cluster.takeTrace()).toMatchInlineSnapshot(`
     "c ready
     c->a preVote term:2 log:1/1
     c->b preVote term:2 log:1/1"
    `);
    cluster.tick('a', 1);
    cluster.stabilize();
    expect(cluster.raft('a').status()).toMatchObject({ role: 'leader', term: 1 });
    expect(cluster.raft('c').status()).toMatchObject({ role: 'follower', leader: 'a', term: 1 });
  });

  it('without pre-vote, the same rejoin deposes the leader', () => {
    const cluster = electedCluster(['a', 'b', 'c'], { isPreVoteEnabled: false });
    cluster.isolate('c');
    for (let attempt = 0; attempt < 3; attempt++) {
      cluster.tick('c', 15);
      cluster.stabilize();
    }
    cluster.reconnect('c');
    cluster.tick('a', 1);
    cluster.stabilize();
    expect(cluster.raft('a').status()).toMatchObject({ role: 'follower', term: 4 });
  });
});

describe('log replication', () => {
  it('overwrites a follower suffix that conflicts with the leader, skipping a whole term per round trip', () => {
    const cluster = electedCluster();
    // a writes entries only it holds, then b (term 2) and c (term 3) lead without it.
    cluster.isolate('a');
    for (const text of ['lost-1', 'lost-2', 'lost-3']) cluster.propose('a', text);
    cluster.stabilize();
    cluster.expireLeases(['c']);
    cluster.tick('b', 15);
    cluster.stabilize();
    for (const text of ['k1', 'k2', 'k3']) cluster.propose('b', text);
    cluster.stabilize();
    cluster.raft('b').transferLeadership('c');
    cluster.stabilize();
    cluster.takeTrace();
    cluster.reconnect('a');
    cluster.tick('c', 1);
    cluster.stabilize();
    // c probes at 5/2; a's hint (4/1, its last entry) lets c skip term 2 at once instead of probing 4, 3, then 2.
    expect(cluster.takeTrace()).toMatchInlineSnapshot(`
     "c ready
     c->a heartbeat term:3 commit:0
     c->b heartbeat term:3 commit:6
     a ready hardState term:3 vote:- commit:1
     b ready
     a->c heartbeatResponse term:3
     b->c heartbeatResponse term:3
     c ready
     c->a append term:3 prev:5/2 entries:[6/3 noop] commit:6
     a ready
     a->c appendResponse term:3 rejected:5 hint:4/1
     c ready
     c->a append term:3 prev:1/1 entries:[2/2 noop, 3/2 k1, 4/2 k2, 5/2 k3, 6/3 noop] commit:6
     a ready hardState term:3 vote:- commit:6; entries [2/2 noop, 3/2 k1, 4/2 k2, 5/2 k3, 6/3 noop]; committed [2/2 noop, 3/2 k1, 4/2 k2, 5/2 k3, 6/3 noop]
     a->c appendResponse term:3 index:6
     c ready
     c->a append term:3 prev:6/3 entries:[] commit:6
     a ready
     a->c appendResponse term:3 index:6"
    `);
    expect(cluster.applied('a')).toEqual(['1/1 noop', '2/2 noop', '3/2 k1', '4/2 k2', '5/2 k3', '6/3 noop']);
    expect(cluster.storage('a').lastIndex()).toBe(6);
  });

  it('batches proposals made between two Readies into one append per follower', () => {
    const cluster = electedCluster();
    cluster.propose('a', 'one');
    cluster.propose('a', 'two');
    cluster.propose('a', 'three');
    cluster.processReady('a');
    cluster.deliver();
    expect(cluster.takeTrace()).toMatchInlineSnapshot(`
     "a ready entries [2/1 one, 3/1 two, 4/1 three]
     a->b append term:1 prev:1/1 entries:[2/1 one, 3/1 two, 4/1 three] commit:1
     a->c append term:1 prev:1/1 entries:[2/1 one, 3/1 two, 4/1 three] commit:1"
    `);
  });

  it('pipelines appends without waiting for acknowledgements, up to maxInflight', () => {
    const cluster = electedCluster(['a', 'b'], { maxInflight: 2, maxEntriesPerAppend: 1 });
    for (const text of ['p1', 'p2', 'p3']) cluster.propose('a', text);
    cluster.processReady('a');
    cluster.deliver();
    // Two single-entry appends leave at once; the third waits for the first acknowledgement.
    expect(cluster.takeTrace()).toMatchInlineSnapshot(`
     "a ready entries [2/1 p1, 3/1 p2, 4/1 p3]
     a->b append term:1 prev:1/1 entries:[2/1 p1] commit:1
     a->b append term:1 prev:2/1 entries:[3/1 p2] commit:1"
    `);
    cluster.stabilize();
    expect(cluster.applied('b')).toEqual(['1/1 noop', '2/1 p1', '3/1 p2', '4/1 p3']);
  });

  it('commits an entry of an earlier term only once an entry of the current term is on a majority (§5.4.2)', () => {
    const cluster = electedCluster(['a', 'b', 'c'], { maxEntriesPerAppend: 1 });
    cluster.isolate('b');
    cluster.isolate('c');
    cluster.propose('a', 'old');
    cluster.stabilize();
    // a restarts with "old" (index 2, term 1) on its disk only, and wins term 2 on its longer log.
    cluster.restart('a');
    cluster.reconnect('b');
    cluster.reconnect('c');
    cluster.expireLeases(['b', 'c']);
    cluster.raft('a').campaign();
    cluster.isolate('c');
    cluster.stabilize();
    // b acknowledged index 2 on its own first; a majority (a, b) held it, yet only the term-2 noop commits it.
    const trace = cluster.takeTrace();
    expect(trace).toContain('b->a appendResponse term:2 index:2');
    expect(trace).not.toMatch(/committed \[2\/1 old\]/);
    expect(trace).toMatch(/a ready hardState term:2 vote:a commit:3; committed \[2\/1 old, 3\/2 noop\]/);
  });
});

describe('leadership transfer', () => {
  it('catches the target up, then hands over with timeoutNow; proposals pause meanwhile', () => {
    const cluster = electedCluster();
    cluster.isolate('b');
    cluster.propose('a', 'x');
    cluster.stabilize();
    cluster.reconnect('b');
    cluster.takeTrace();
    cluster.raft('a').transferLeadership('b');
    expect(() => cluster.propose('a', 'y')).toThrow(LeadershipTransferError);
    cluster.stabilize();
    expect(cluster.takeTrace()).toMatchInlineSnapshot(`
     "a ready
     a->b append term:1 prev:2/1 entries:[] commit:2
     b ready
     b->a appendResponse term:1 rejected:2 hint:1/1
     a ready
     a->b append term:1 prev:1/1 entries:[2/1 x] commit:2
     b ready hardState term:1 vote:a commit:2; entries [2/1 x]; committed [2/1 x]
     b->a appendResponse term:1 index:2
     a ready
     a->b append term:1 prev:2/1 entries:[] commit:2
     a->b timeoutNow term:1
     b ready hardState term:2 vote:b commit:2
     b->a appendResponse term:1 index:2
     b->a vote term:2 log:2/1 transfer
     b->c vote term:2 log:2/1 transfer
     a ready hardState term:2 vote:b commit:2
     c ready hardState term:2 vote:b commit:2
     a->b voteResponse term:2 granted
     c->b voteResponse term:2 granted
     b ready entries [3/2 noop]
     b->a append term:2 prev:2/1 entries:[3/2 noop] commit:2
     b->c append term:2 prev:2/1 entries:[3/2 noop] commit:2
     a ready entries [3/2 noop]
     c ready entries [3/2 noop]
     a->b appendResponse term:2 index:3
     c->b appendResponse term:2 index:3
     b ready hardState term:2 vote:b commit:3; committed [3/2 noop]
     b->a append term:2 prev:3/2 entries:[] commit:3
     b->c append term:2 prev:3/2 entries:[] commit:3
     a ready hardState term:2 vote:b commit:3; committed [3/2 noop]
     c ready hardState term:2 vote:b commit:3; committed [3/2 noop]
     a->b appendResponse term:2 index:3
     c->b appendResponse term:2 index:3"
    `);
    expect(cluster.raft('b').status()).toMatchObject({ role: 'leader', term: 2 });
    expect(cluster.raft('a').status()).toMatchObject({ role: 'follower', leader: 'b', term: 2 });
    expect(() => cluster.propose('a', 'y')).toThrow(NotLeaderError);
  });

  it('gives up after an election timeout when the target does not answer', () => {
    const cluster = electedCluster();
    cluster.isolate('c');
    cluster.raft('a').transferLeadership('c');
    cluster.stabilize();
    expect(cluster.raft('a').status().leadTransferee).toBe('c');
    cluster.tick('a', 10);
    expect(cluster.raft('a').status()).toMatchObject({ role: 'leader', leadTransferee: null });
    expect(cluster.propose('a', 'y')).toEqual({ index: 2, term: 1 });
  });
});

describe('membership', () => {
  it('adds a member (effective on append), removes one, and allows one pending change at a time', () => {
    const cluster = electedCluster();
    cluster.raft('a').proposeConfigChange({ type: 'add', node: 'd' });
    expect(cluster.raft('a').status().members).toEqual(['a', 'b', 'c', 'd']);
    expect(() => cluster.raft('a').proposeConfigChange({ type: 'remove', node: 'c' })).toThrow(
      ConfigChangePendingError,
    );
    // The operator starts d with the membership it joins.
    cluster.addPeers(['d'], ['a', 'b', 'c', 'd']);
    cluster.stabilize();
    expect(cluster.takeTrace()).toMatchInlineSnapshot(`
     "a ready entries [2/1 add d]
     a->b append term:1 prev:1/1 entries:[2/1 add d] commit:1
     a->c append term:1 prev:1/1 entries:[2/1 add d] commit:1
     a->d append term:1 prev:2/1 entries:[] commit:1
     b ready entries [2/1 add d]
     c ready entries [2/1 add d]
     d ready hardState term:1 vote:- commit:0
     b->a appendResponse term:1 index:2
     c->a appendResponse term:1 index:2
     d->a appendResponse term:1 rejected:2 hint:0/0
     a ready hardState term:1 vote:a commit:2; committed [2/1 add d]
     a->b append term:1 prev:2/1 entries:[] commit:2
     a->c append term:1 prev:2/1 entries:[] commit:2
     a->d append term:1 prev:0/0 entries:[1/1 noop, 2/1 add d] commit:2
     b ready hardState term:1 vote:a commit:2; committed [2/1 add d]
     c ready hardState term:1 vote:a commit:2; committed [2/1 add d]
     d ready hardState term:1 vote:- commit:2; entries [1/1 noop, 2/1 add d]; committed [1/1 noop, 2/1 add d]
     b->a appendResponse term:1 index:2
     c->a appendResponse term:1 index:2
     d->a appendResponse term:1 index:2
     a ready
     a->d append term:1 prev:2/1 entries:[] commit:2
     d ready
     d->a appendResponse term:1 index:2"
    `);
    expect(cluster.applied('d')).toEqual(['1/1 noop', '2/1 add d']);

    expect(() => cluster.raft('a').proposeConfigChange({ type: 'add', node: 'd' })).toThrow(InvalidConfigChangeError);
    cluster.raft('a').proposeConfigChange({ type: 'remove', node: 'c' });
    cluster.stabilize();
    for (const id of ['a', 'b', 'd']) expect(cluster.raft(id).status().members).toEqual(['a', 'b', 'd']);
    expect(cluster.raft('a').status().progress).not.toHaveProperty('c');
    cluster.takeTrace();
    cluster.propose('a', 'after');
    cluster.stabilize();
    expect(cluster.takeTrace()).not.toContain('->c');
  });

  it('a leader that removes itself steps down once the removal commits, and never campaigns again', () => {
    const cluster = electedCluster();
    cluster.raft('a').proposeConfigChange({ type: 'remove', node: 'a' });
    cluster.stabilize();
    expect(cluster.raft('a').status()).toMatchObject({ role: 'follower', members: ['b', 'c'] });
    expect(cluster.raft('b').status().commit).toBe(2);
    cluster.tick('a', 100);
    expect(cluster.raft('a').hasReady()).toBe(false);
    cluster.expireLeases(['c']);
    cluster.tick('b', 15);
    cluster.stabilize();
    expect(cluster.raft('b').status()).toMatchObject({ role: 'leader', term: 2, members: ['b', 'c'] });
  });

  it('a removed member receives its removal and the commit of it, then stays quiet', () => {
    const cluster = electedCluster();
    cluster.raft('a').proposeConfigChange({ type: 'remove', node: 'c' });
    cluster.stabilize();
    expect(cluster.takeTrace()).toContain('a->c heartbeat term:1 commit:2');
    expect(cluster.raft('c').status()).toMatchObject({ members: ['a', 'b'], commit: 2, role: 'follower' });
    cluster.tick('c', 100);
    expect(cluster.raft('c').hasReady()).toBe(false);
    cluster.propose('a', 'after');
    cluster.stabilize();
    expect(cluster.takeTrace()).not.toContain('->c');
  });

  it('a removed member that missed its removal cannot disrupt the rest', () => {
    const cluster = electedCluster();
    cluster.isolate('c');
    cluster.raft('a').proposeConfigChange({ type: 'remove', node: 'c' });
    cluster.stabilize();
    cluster.reconnect('c');
    cluster.expireLeases(['b']);
    cluster.tick('c', 15);
    cluster.stabilize();
    expect(cluster.raft('a').status()).toMatchObject({ role: 'leader', term: 1 });
  });
});

describe('joining without a membership', () => {
  it('a new peer never campaigns, learns the membership from a catch-up, then counts as a voter', () => {
    const cluster = electedCluster();
    cluster.addPeers(['d'], []);
    cluster.tick('d', 100);
    expect(cluster.raft('d').hasReady()).toBe(false);
    expect(cluster.raft('d').status()).toMatchObject({ role: 'follower', members: [], term: 0 });
    cluster.raft('a').proposeConfigChange({ type: 'add', node: 'd' });
    cluster.stabilize();
    expect(cluster.takeTrace()).toMatchInlineSnapshot(`
     "a ready entries [2/1 add d]
     a->b append term:1 prev:1/1 entries:[2/1 add d] commit:1
     a->c append term:1 prev:1/1 entries:[2/1 add d] commit:1
     a->d append term:1 prev:2/1 entries:[] commit:1
     b ready entries [2/1 add d]
     c ready entries [2/1 add d]
     d ready hardState term:1 vote:- commit:0
     b->a appendResponse term:1 index:2
     c->a appendResponse term:1 index:2
     d->a appendResponse term:1 rejected:2 hint:0/0 membership-unknown
     a ready hardState term:1 vote:a commit:2; committed [2/1 add d]; catch up d from 3
     a->b append term:1 prev:2/1 entries:[] commit:2
     a->c append term:1 prev:2/1 entries:[] commit:2
     a->d snapshot term:1 at:2/1 members:[a,b,c,d]
     b ready hardState term:1 vote:a commit:2; committed [2/1 add d]
     c ready hardState term:1 vote:a commit:2; committed [2/1 add d]
     d ready hardState term:1 vote:- commit:2; snapshot 2/1
     b->a appendResponse term:1 index:2
     c->a appendResponse term:1 index:2
     d->a snapshotResponse term:1 index:2
     a ready
     a->d append term:1 prev:2/1 entries:[] commit:2
     d ready
     d->a appendResponse term:1 index:2"
    `);
    expect(cluster.raft('d').status()).toMatchObject({ members: ['a', 'b', 'c', 'd'], commit: 2, lastIndex: 2 });
    // d now counts: with c and d cut off, a and b are no majority of four; with d back, they are.
    cluster.isolate('c');
    cluster.isolate('d');
    cluster.propose('a', 'x');
    cluster.stabilize();
    expect(cluster.raft('a').status().commit).toBe(2);
    cluster.reconnect('d');
    cluster.tick('a', 1);
    cluster.stabilize();
    expect(cluster.raft('a').status().commit).toBe(3);
    expect(cluster.applied('d')).toEqual(['3/1 x']);
  });

  it('grants votes while it knows no membership, which lets the bootstrapping peers elect a leader', () => {
    const cluster = new Interaction();
    cluster.addPeers(['a'], ['a', 'b', 'c']);
    cluster.addPeers(['b', 'c'], []);
    cluster.raft('a').campaign();
    cluster.stabilize();
    expect(cluster.raft('a').status()).toMatchObject({ role: 'leader', commit: 1 });
    for (const id of ['b', 'c']) expect(cluster.raft(id).status()).toMatchObject({ members: ['a', 'b', 'c'] });
    cluster.propose('a', 'y');
    cluster.stabilize();
    for (const id of ['b', 'c']) expect(cluster.raft(id).status()).toMatchObject({ commit: 2, lastIndex: 2 });
  });

  it('bootstrap sets the membership of an empty log only, and only once', () => {
    const cluster = new Interaction();
    cluster.addPeers(['a', 'b'], []);
    expect(cluster.raft('a').bootstrap([])).toBe(false);
    expect(cluster.raft('a').bootstrap(['b', 'a'])).toBe(true);
    expect(cluster.raft('a').status()).toMatchObject({ members: ['a', 'b'], membersIndex: 0 });
    expect(cluster.raft('a').bootstrap(['a'])).toBe(false);
    cluster.raft('b').bootstrap(['a', 'b']);
    cluster.raft('a').campaign();
    cluster.stabilize();
    expect(cluster.raft('a').status()).toMatchObject({ role: 'leader', commit: 1 });
    cluster.addPeers(['c'], []);
    cluster.raft('a').proposeConfigChange({ type: 'add', node: 'c' });
    cluster.stabilize();
    expect(cluster.raft('c').bootstrap(['c'])).toBe(false);
    expect(cluster.raft('c').status()).toMatchObject({ members: ['a', 'b', 'c'], membersIndex: 2 });
  });
});

describe('catch-up', () => {
  it('asks the node to stream a follower what retention deleted, then resumes appends after it', () => {
    const cluster = electedCluster();
    cluster.isolate('c');
    for (const text of ['1', '2', '3', '4']) cluster.propose('a', text);
    cluster.stabilize();
    cluster.storage('a').compact(4);
    cluster.reconnect('c');
    cluster.takeTrace();
    cluster.tick('a', 1);
    cluster.stabilize();
    // The trace shows the catch-up request and the snapshot message the node delivers after the stream.
    expect(cluster.takeTrace()).toMatchInlineSnapshot(`
     "a ready
     a->b heartbeat term:1 commit:5
     a->c heartbeat term:1 commit:1
     b ready
     c ready
     b->a heartbeatResponse term:1
     c->a heartbeatResponse term:1
     a ready
     a->c append term:1 prev:5/1 entries:[] commit:5
     c ready
     c->a appendResponse term:1 rejected:5 hint:1/1
     a ready catch up c from 2
     a->c snapshot term:1 at:5/1 members:[a,b,c]
     c ready hardState term:1 vote:a commit:5; snapshot 5/1
     c->a snapshotResponse term:1 index:5
     a ready
     a->c append term:1 prev:5/1 entries:[] commit:5
     c ready
     c->a appendResponse term:1 index:5"
    `);
    expect(cluster.raft('a').status().progress?.c).toEqual({ match: 5, next: 6, state: 'replicate' });
    expect(cluster.storage('c').firstIndex()).toBe(6);
    cluster.propose('a', '5');
    cluster.stabilize();
    expect(cluster.raft('c').status()).toMatchObject({ commit: 6, lastIndex: 6 });
    expect(cluster.applied('c')).toContain('6/1 5');
  });

  it('asks again when a stream fails', () => {
    const cluster = electedCluster();
    cluster.isolate('c');
    cluster.propose('a', 'x');
    cluster.stabilize();
    cluster.storage('a').compact(2);
    cluster.reconnect('c');
    cluster.tick('a', 1);
    cluster.stabilize((message) => message.type === 'snapshot');
    expect(cluster.takeTrace()).toContain('dropped a->c snapshot term:1 at:2/1');
    cluster.raft('a').reportUnreachable('c');
    cluster.tick('a', 1);
    cluster.stabilize();
    expect(cluster.takeTrace()).toContain('a ready catch up c from 2');
    expect(cluster.raft('c').status()).toMatchObject({ commit: 2, lastIndex: 2 });
  });
});

describe('restarts and the Ready contract', () => {
  it('recovers term, vote, log and membership (replaying Config entries) from storage', () => {
    const cluster = electedCluster();
    cluster.raft('a').proposeConfigChange({ type: 'add', node: 'd' });
    cluster.addPeers(['d'], ['a', 'b', 'c', 'd']);
    cluster.propose('a', 'x');
    cluster.stabilize();
    cluster.restart('b');
    expect(cluster.raft('b').status()).toMatchObject({
      role: 'follower',
      term: 1,
      commit: 3,
      lastIndex: 3,
      members: ['a', 'b', 'c', 'd'],
    });
    expect(cluster.storage('b').initialState().hardState).toEqual({ term: 1, vote: 'a', commit: 3 });
  });

  it('loses what a crash caught before the Ready was persisted, and the leader resends it', () => {
    const cluster = electedCluster();
    cluster.propose('a', 'x');
    cluster.processReady('a');
    cluster.deliver();
    // b received "x" but crashes before persisting its Ready: the entry and the acknowledgement are gone.
    cluster.restart('b');
    expect(cluster.raft('b').status().lastIndex).toBe(1);
    cluster.stabilize();
    cluster.tick('a', 1);
    cluster.stabilize();
    expect(cluster.applied('b')).toEqual(['1/1 noop', '2/1 x']);
  });

  it('accepts steps while a Ready is being persisted, and hands out only what is new next time', () => {
    const cluster = electedCluster();
    const leader = cluster.raft('a');
    leader.propose(new TextEncoder().encode('first'));
    const first = leader.ready();
    leader.propose(new TextEncoder().encode('second'));
    expect(leader.hasReady()).toBe(true);
    leader.advance(first);
    const second = leader.ready();
    expect(first.entries.map((entry) => entry.index)).toEqual([2]);
    expect(second.entries.map((entry) => entry.index)).toEqual([3]);
  });

  it('with check-quorum, a leader that hears from no majority for an election timeout steps down', () => {
    const cluster = electedCluster(['a', 'b', 'c'], { isCheckQuorumEnabled: true });
    cluster.isolate('a');
    for (let tick = 0; tick < 20; tick++) {
      cluster.tick('a', 1);
      cluster.stabilize();
    }
    expect(cluster.raft('a').status()).toMatchObject({ role: 'follower', term: 1, leader: null });
  });

  it('refuses proposals on a follower and names the leader', () => {
    const cluster = electedCluster();
    expect(() => cluster.propose('b', 'x')).toThrow(expect.objectContaining({ leader: 'a', code: 'not_leader' }));
  });
});
