import { ReportedReasons } from './events';

describe('ReportedReasons', () => {
  test('a refusal is reported once, even when a later reconcile still reads the status from before it', () => {
    const reported = new ReportedReasons();
    expect(reported.isNew('uid/Progressing', 'QuorumAtRisk', 'Stable')).toBe(true);
    // The informer has not seen this operator's status write yet: the stored reason is still the old one.
    expect(reported.isNew('uid/Progressing', 'QuorumAtRisk', 'Stable')).toBe(false);
    expect(reported.isNew('uid/Progressing', 'QuorumAtRisk', 'QuorumAtRisk')).toBe(false);
    expect(reported.isNew('uid/Progressing', 'ClusterUnreachable', 'QuorumAtRisk')).toBe(true);
  });

  test('a refusal that cleared and came back is reported again; a restarted operator trusts the stored status', () => {
    const reported = new ReportedReasons();
    expect(reported.isNew('uid/StorageSynced', 'StorageShrinkRefused', 'Synced')).toBe(true);
    expect(reported.isNew('uid/StorageSynced', undefined, 'StorageShrinkRefused')).toBe(false);
    expect(reported.isNew('uid/StorageSynced', 'StorageShrinkRefused', 'Synced')).toBe(true);
    expect(new ReportedReasons().isNew('uid/StorageSynced', 'StorageShrinkRefused', 'StorageShrinkRefused')).toBe(
      false,
    );
  });
});
