import { quantityBytes } from './quantity';

describe('quantityBytes', () => {
  test('reads binary and decimal suffixes', () => {
    expect(quantityBytes('10Gi')).toBe(10 * 2 ** 30);
    expect(quantityBytes('500M')).toBe(500e6);
    expect(quantityBytes('1.5Ki')).toBe(1536);
    expect(quantityBytes('2Pi')).toBe(2 * 2 ** 50);
    expect(quantityBytes('1024')).toBe(1024);
    expect(quantityBytes('1e3')).toBe(1000);
    expect(quantityBytes('1126400m')).toBe(1126);
    expect(() => quantityBytes('ten')).toThrow('not a byte quantity');
  });
});
