import { describe, expect, it } from 'vitest';
import { float32ToHalf, fromFloat16Bits, halfToFloat32, toFloat16Bits } from '../../../server/src/inference/float16.js';

describe('float16', () => {
  it('encodes known values bit-exactly', () => {
    expect(float32ToHalf(1)).toBe(0x3c00);
    expect(float32ToHalf(-2)).toBe(0xc000);
    expect(float32ToHalf(0.5)).toBe(0x3800);
    expect(float32ToHalf(65504)).toBe(0x7bff); // largest half
    expect(float32ToHalf(1e6)).toBe(0x7c00); // overflow to infinity
    expect(float32ToHalf(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(float32ToHalf(2 ** -26)).toBe(0x0000); // underflow
    expect(float32ToHalf(1 + 2 ** -11)).toBe(0x3c00); // tie rounds to even
    expect(float32ToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(Number.isNaN(halfToFloat32(float32ToHalf(NaN)))).toBe(true);
  });

  it('round-trips every finite half value', () => {
    const bits = new Uint16Array(0x10000).map((_, k) => k);
    const finite = bits.filter((b) => (b & 0x7c00) !== 0x7c00);
    const back = toFloat16Bits(fromFloat16Bits(finite));
    // -0 and +0 both survive; every other value maps to itself.
    expect(Array.from(back)).toEqual(Array.from(finite));
  });
});
