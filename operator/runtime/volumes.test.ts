import { planVolumes, storageCondition, type ObservedClaim } from './volumes';

const claim = (name: string, requested: string, overrides: Partial<ObservedClaim> = {}): ObservedClaim => ({
  name,
  requested,
  capacity: requested,
  isBound: true,
  ...overrides,
});
const template = { size: '10Gi', storageClassName: 'fast' };

describe('planVolumes', () => {
  test('a new resource and an unchanged size ask for nothing', () => {
    expect(planVolumes({ desired: template, claims: [] })).toEqual({
      kind: 'synced',
      message: 'volumes will request 10Gi',
    });
    expect(planVolumes({ desired: template, template, claims: [claim('data-q-0', '10Gi')] }).kind).toBe('synced');
  });

  test('a larger size expands every bound claim below it, whatever the template says', () => {
    const plan = planVolumes({
      desired: { size: '20Gi', storageClassName: 'fast' },
      template,
      claims: [claim('data-q-0', '10Gi'), claim('data-q-1', '20Gi'), claim('data-q-2', '10240Mi')],
    });
    expect(plan).toEqual({ kind: 'expand', claims: ['data-q-0', 'data-q-2'], message: expect.any(String) });
    // Once the requests match, the StatefulSet's template still says 10Gi: that is no shrink.
    expect(
      planVolumes({
        desired: { size: '20Gi', storageClassName: 'fast' },
        template,
        claims: [claim('data-q-0', '20Gi')],
      }).kind,
    ).toBe('synced');
  });

  test('an unbound claim and a volume still resizing are waited for', () => {
    const desired = { size: '20Gi', storageClassName: 'fast' };
    expect(
      planVolumes({ desired, template, claims: [claim('data-q-0', '10Gi', { isBound: false, capacity: undefined })] }),
    ).toEqual({ kind: 'waiting', message: 'waiting for data-q-0 to be bound before expanding to 20Gi' });
    expect(planVolumes({ desired, template, claims: [claim('data-q-0', '20Gi', { capacity: '10Gi' })] })).toEqual({
      kind: 'waiting',
      message: 'waiting for the storage provider to resize data-q-0 to 20Gi',
    });
  });

  test('a smaller size than any volume or the template is refused', () => {
    expect(planVolumes({ desired: { size: '5Gi', storageClassName: 'fast' }, template, claims: [] })).toEqual({
      kind: 'refused',
      reason: 'StorageShrinkRefused',
      message: 'storage size 5Gi refused: the volumes already hold 10Gi and a volume cannot shrink',
    });
    // Going back to the template's size after an expansion is a shrink too.
    expect(
      planVolumes({ desired: template, template, claims: [claim('data-q-0', '20Gi'), claim('data-q-1', '10Gi')] }),
    ).toMatchObject({ kind: 'refused', reason: 'StorageShrinkRefused', message: expect.stringContaining('hold 20Gi') });
  });

  test('another StorageClass is refused, naming both', () => {
    expect(planVolumes({ desired: { size: '10Gi', storageClassName: 'slow' }, template, claims: [] })).toEqual({
      kind: 'refused',
      reason: 'StorageClassChangeRefused',
      message:
        'storage class change to "slow" refused: the volumes stay in "fast" (a volume cannot move to another class, ' +
        'and a StatefulSet cannot change its claim template)',
    });
    expect(planVolumes({ desired: { size: '10Gi' }, template, claims: [] })).toMatchObject({
      reason: 'StorageClassChangeRefused',
      message: expect.stringContaining('to the default class'),
    });
  });

  test('the condition is true only once the volumes match', () => {
    expect(storageCondition({ kind: 'synced', message: 'm' })).toMatchObject({ status: 'True', reason: 'Synced' });
    expect(storageCondition({ kind: 'expand', claims: ['a'], message: 'm' })).toMatchObject({
      status: 'False',
      reason: 'Expanding',
    });
    expect(storageCondition({ kind: 'waiting', message: 'm' }).reason).toBe('Resizing');
    expect(storageCondition({ kind: 'refused', reason: 'StorageShrinkRefused', message: 'm' })).toMatchObject({
      type: 'StorageSynced',
      status: 'False',
      reason: 'StorageShrinkRefused',
    });
  });
});
