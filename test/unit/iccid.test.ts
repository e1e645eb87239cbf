import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { resetConfigCache } from '../../shared/config.js';
import { hasValidLuhnCheckDigit, withLuhnCheckDigit } from '../../shared/iccid.js';
import { iccidField } from '../../shared/operations/fields.js';

describe('Luhn check digit (ITU-T E.118)', () => {
  it.each(['8943108165015003887', '8944538532008160222', '8943108160000804845', '89882806660004909182'])(
    'accepts the real ICCID %s',
    (iccid) => {
      expect(hasValidLuhnCheckDigit(iccid)).toBe(true);
    },
  );

  it.each(['8944123456789012000', '1234567890123456789'])('rejects the documentation placeholder %s', (iccid) => {
    expect(hasValidLuhnCheckDigit(iccid)).toBe(false);
  });

  it('detects every single-digit change of a valid ICCID', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^89\d{17}$/),
        fc.nat(18),
        fc.integer({ min: 1, max: 9 }),
        (payload, position, delta) => {
          const valid = withLuhnCheckDigit(payload);
          const digits = [...valid];
          digits[position] = String((Number(digits[position]) + delta) % 10);
          expect(hasValidLuhnCheckDigit(valid)).toBe(true);
          expect(hasValidLuhnCheckDigit(digits.join(''))).toBe(false);
        },
      ),
    );
  });
});

describe('iccid field', () => {
  afterEach(() => {
    delete process.env.ICCID_CHECKSUM;
    resetConfigCache();
  });

  it('accepts 19 and 20 digit ICCIDs starting with 89 that pass Luhn', () => {
    expect(iccidField.safeParse(withLuhnCheckDigit('894400000000000001')).success).toBe(true);
    expect(iccidField.safeParse(withLuhnCheckDigit('8944000000000000012')).success).toBe(true);
  });

  it.each([
    ['too short', '894400000000000001'],
    ['too long', '894400000000000000123'],
    ['not starting with 89', withLuhnCheckDigit('123456789012345678')],
    ['letters', '89440000000000000F1'],
  ])('rejects an ICCID that is %s', (_label, iccid) => {
    const parsed = iccidField.safeParse(iccid);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toMatch(/19 or 20 digits starting with 89/);
  });

  it('rejects a wrong check digit unless ICCID_CHECKSUM=off', () => {
    const valid = withLuhnCheckDigit('894400000000000001');
    const wrong = `${valid.slice(0, -1)}${(Number(valid.slice(-1)) + 1) % 10}`;
    expect(iccidField.safeParse(wrong).error?.issues[0]?.message).toMatch(/check digit/);
    process.env.ICCID_CHECKSUM = 'off';
    resetConfigCache();
    expect(iccidField.safeParse(wrong).success).toBe(true);
  });
});
