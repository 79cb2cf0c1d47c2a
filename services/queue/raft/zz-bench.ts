import { RaftNode } from './raft';
import { MemoryStorage } from './storage';
for (const members of [['a'], ['a', 'b', 'c']]) {
  const storage = new MemoryStorage(members);
  const raft = new RaftNode({ id: 'a', storage, electionTicks: 10, heartbeatTicks: 1, random: () => 0.5 });
  raft.campaign();
  // fake votes for 3-node
  const process = () => { const r = raft.ready(); storage.append(r.entries); if (r.hardState) storage.setHardState(r.hardState); raft.advance(r); return r; };
  let r = process();
  for (const m of r.messages) if (m.type === 'preVote') raft.step({ type: 'preVoteResponse', from: m.to, to: 'a', term: m.term, isGranted: true });
  r = process();
  for (const m of r.messages) if (m.type === 'vote') raft.step({ type: 'voteResponse', from: m.to, to: 'a', term: m.term, isGranted: true });
  process();
  const data = new Uint8Array(200);
  const started = performance.now();
  const total = 1_000_000;
  for (let i = 0; i < total; i += 1000) {
    for (let j = 0; j < 1000; j++) raft.propose(data);
    const ready = process();
    for (const m of ready.messages) if (m.type === 'append' && m.entries.length) raft.step({ type: 'appendResponse', from: m.to, to: 'a', term: m.term, index: m.prevIndex + m.entries.length, isRejected: false });
    if (i % 100000 === 0) storage.compact(raft.status().applied);
  }
  process();
  const s = (performance.now() - started) / 1000;
  console.log(members.length, 'members', Math.round(total / s), 'proposals/s', raft.status().commit);
}
