import { runSimulation } from './simulation';
const started = Date.now();
let failures = 0;
const totals: Record<string, number> = {};
for (let seed = 1; seed <= Number(process.argv[2] ?? 200); seed++) {
  for (const nodes of [3, 5]) {
    const r = runSimulation(seed, { nodes, ...JSON.parse(process.argv[3] ?? '{}') });
    for (const k of ['acknowledged', 'elections', 'crashes', 'catchUps', 'configChanges', 'transfers'] as const) totals[k] = (totals[k] ?? 0) + r[k];
    if (r.violation) { failures++; if (failures <= 3) console.log(seed, nodes, r.violation, r.trace.slice(-15).join('\n')); }
  }
}
console.log('failures', failures, totals, Date.now() - started, 'ms');
