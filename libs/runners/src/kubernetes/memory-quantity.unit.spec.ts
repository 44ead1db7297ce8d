import { parseMemory } from '#osa/domain';
import { memoryQuantity, parseMemoryQuantity } from './memory-quantity.js';

describe('memoryQuantity', () => {
  it.each([
    ['1.5g', '1536Mi'],
    ['1g', '1Gi'],
    ['256m', '256Mi'],
    ['512Mi', '512Mi'],
    ['2gb', '2Gi'],
    ['100k', '100Ki'],
  ])('converts the convention size %s to the Kubernetes quantity %s', (size, quantity) => {
    expect(memoryQuantity(parseMemory(size)!)).toBe(quantity);
  });

  it('falls back to plain bytes when no binary unit divides the size', () => {
    expect(memoryQuantity(1000)).toBe('1000');
  });

  it('never emits a lowercase m suffix, which Kubernetes reads as milli-units', () => {
    expect(memoryQuantity(parseMemory('256m')!)).not.toMatch(/m$/);
  });

  it('rejects sizes that are not positive whole bytes', () => {
    expect(() => memoryQuantity(0)).toThrow(RangeError);
    expect(() => memoryQuantity(1.5)).toThrow(RangeError);
  });
});

describe('parseMemoryQuantity', () => {
  it.each([
    ['1536Mi', 1536 * 1024 ** 2],
    ['1Gi', 1024 ** 3],
    ['1G', 1e9],
    ['128974848', 128974848],
  ])('parses %s', (quantity, bytes) => {
    expect(parseMemoryQuantity(quantity)).toBe(bytes);
  });

  it('returns undefined for malformed quantities', () => {
    expect(parseMemoryQuantity('lots')).toBeUndefined();
  });
});
