import {
  AlertPhase,
  INACTIVE,
  fingerprint,
  nextState,
  type AlertState,
  type Observation,
  type StateRule,
} from './machine';

/**
 * Each scenario is a script: at virtual time `t` (seconds) an observation arrives ('T 85' true with value 85, 'F 70'
 * false, 'N' no data), and the line says the phase afterwards and any notifications (`+firing`, `+repeat`,
 * `+resolved`). The clock is only ever the number in the table.
 */
const base: StateRule = {
  durationMs: 60_000,
  keepFiringForMs: 0,
  renotifyIntervalMs: 0,
  nodata: 'ok',
  resolvedRetentionMs: 300_000,
};

function observe(text: string): Observation {
  if (text === 'N') return { kind: 'nodata' };
  const [truth, value] = text.split(' ');
  return { kind: 'value', value: Number(value), isTrue: truth === 'T' };
}

function run(rule: StateRule, script: string): string[] {
  let state: AlertState = INACTIVE;
  const trace: string[] = [];
  for (const line of script.trim().split('\n')) {
    const [time, observation] = line.trim().split(/\s*:\s*/);
    const transition = nextState(state, observe(observation), Number(time) * 1000, rule);
    state = transition.state;
    const notes = transition.notifications.map((note) =>
      note.isRepeat ? '+repeat' : note.kind === 'firing' ? '+firing' : '+resolved',
    );
    trace.push([`${time}`, state.phase, ...notes].join(' '));
  }
  return trace;
}

const cases: { name: string; rule?: Partial<StateRule>; script: string; expected: string[] }[] = [
  {
    name: 'pending, then firing exactly at duration, then resolved',
    script: '0: T 85\n30: T 86\n59: T 87\n60: T 88\n90: F 70\n120: F 70',
    expected: ['0 pending', '30 pending', '59 pending', '60 firing +firing', '90 resolved +resolved', '120 resolved'],
  },
  {
    name: 'one millisecond short of duration stays pending',
    rule: { durationMs: 60_001 },
    script: '0: T 85\n60: T 85\n60.001: T 85',
    expected: ['0 pending', '60 pending', '60.001 firing +firing'],
  },
  {
    name: 'zero duration fires at the first true evaluation',
    rule: { durationMs: 0 },
    script: '0: T 85\n5: T 85\n10: F 1',
    expected: ['0 firing +firing', '5 firing', '10 resolved +resolved'],
  },
  {
    name: 'flapping below duration never fires and restarts the pending clock',
    script: '0: T 85\n30: F 70\n45: T 85\n90: T 85\n104: T 85\n105: T 85',
    expected: ['0 pending', '30 inactive', '45 pending', '90 pending', '104 pending', '105 firing +firing'],
  },
  {
    name: 'flapping around a firing alert resolves and fires each time with zero duration',
    rule: { durationMs: 0 },
    script: '0: T 85\n5: F 1\n10: T 85\n15: F 1',
    expected: ['0 firing +firing', '5 resolved +resolved', '10 firing +firing', '15 resolved +resolved'],
  },
  {
    name: 'keep_firing_for holds through a short dip and resolves after a long one',
    rule: { durationMs: 0, keepFiringForMs: 20_000 },
    script: '0: T 85\n5: F 1\n15: F 1\n20: T 85\n30: F 1\n45: F 1\n50: F 1',
    expected: [
      '0 firing +firing',
      '5 firing',
      '15 firing',
      '20 firing',
      '30 firing',
      '45 firing',
      '50 resolved +resolved',
    ],
  },
  {
    name: 'no data means ok by default: pending drops, firing resolves',
    script: '0: T 85\n30: N\n40: T 85\n100: T 85\n110: N',
    expected: ['0 pending', '30 inactive', '40 pending', '100 firing +firing', '110 resolved +resolved'],
  },
  {
    name: 'no data as alerting fires after duration',
    rule: { nodata: 'alerting' },
    script: '0: N\n30: N\n60: N\n65: F 1',
    expected: ['0 pending', '30 pending', '60 firing +firing', '65 resolved +resolved'],
  },
  {
    name: 'no data as keep_last continues what was last seen',
    rule: { nodata: 'keep_last' },
    script: '0: T 85\n30: N\n60: N\n70: F 1\n80: N',
    expected: ['0 pending', '30 pending', '60 firing +firing', '70 resolved +resolved', '80 resolved'],
  },
  {
    name: 're-notify interval repeats a firing alert, measured from the last notification',
    rule: { durationMs: 0, renotifyIntervalMs: 60_000 },
    script: '0: T 85\n30: T 85\n59: T 85\n60: T 85\n90: T 85\n120: T 85\n125: F 1',
    expected: [
      '0 firing +firing',
      '30 firing',
      '59 firing',
      '60 firing +repeat',
      '90 firing',
      '120 firing +repeat',
      '125 resolved +resolved',
    ],
  },
  {
    name: 'resolved becomes inactive after the retention, or pending again when true',
    rule: { durationMs: 0, resolvedRetentionMs: 60_000 },
    script: '0: T 85\n10: F 1\n69: F 1\n70: F 1\n80: T 90',
    expected: ['0 firing +firing', '10 resolved +resolved', '69 resolved', '70 inactive', '80 firing +firing'],
  },
  {
    name: 'resolved goes back to pending when true with a duration',
    script: '0: T 85\n60: T 85\n70: F 1\n80: T 85\n140: T 85',
    expected: ['0 pending', '60 firing +firing', '70 resolved +resolved', '80 pending', '140 firing +firing'],
  },
];

describe('nextState', () => {
  test.each(cases)('$name', ({ rule, script, expected }) => {
    expect(run({ ...base, ...rule }, script)).toEqual(expected);
  });

  test('timestamps: activeAt at the first true, firedAt at firing, resolvedAt at resolution', () => {
    let state = nextState(INACTIVE, { kind: 'value', value: 90, isTrue: true }, 1000, base).state;
    state = nextState(state, { kind: 'value', value: 91, isTrue: true }, 61_000, base).state;
    expect(state).toMatchObject({ phase: AlertPhase.Firing, activeAt: 1000, firedAt: 61_000, value: 91 });
    state = nextState(state, { kind: 'value', value: 10, isTrue: false }, 70_000, base).state;
    expect(state).toMatchObject({ phase: AlertPhase.Resolved, activeAt: 1000, firedAt: 61_000, resolvedAt: 70_000 });
  });

  test('a new activation forgets the previous firing times', () => {
    const rule = { ...base, durationMs: 10_000 };
    let state = nextState(INACTIVE, { kind: 'value', value: 90, isTrue: true }, 0, rule).state;
    state = nextState(state, { kind: 'value', value: 90, isTrue: true }, 10_000, rule).state;
    state = nextState(state, { kind: 'value', value: 1, isTrue: false }, 20_000, rule).state;
    state = nextState(state, { kind: 'value', value: 90, isTrue: true }, 30_000, rule).state;
    expect(state).toEqual({ phase: AlertPhase.Pending, value: 90, activeAt: 30_000, evaluatedAt: 30_000 });
  });
});

describe('fingerprint', () => {
  test('is stable, ignores label order and separates rules and labels', () => {
    expect(fingerprint('r', { a: '1', b: '2' })).toBe(fingerprint('r', { b: '2', a: '1' }));
    expect(fingerprint('r', { a: '1' })).not.toBe(fingerprint('r2', { a: '1' }));
    expect(fingerprint('r', { a: '1' })).not.toBe(fingerprint('r', { a: '2' }));
    expect(fingerprint('r', {})).toMatch(/^[0-9a-f]{16}$/);
  });
});
