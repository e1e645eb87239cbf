/**
 * ICCID rules from ITU-T E.118: the telecom major industry identifier `89`, 19 or 20 digits in practice,
 * and a Luhn (ISO/IEC 7812-1) check digit as the last digit.
 */
export const ICCID_PATTERN = /^89\d{17,18}$/;

export const hasValidLuhnCheckDigit = (digits: string): boolean => {
  let sum = 0;
  let double = false;
  for (let index = digits.length - 1; index >= 0; index -= 1) {
    let digit = digits.charCodeAt(index) - 48;
    if (double) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double = !double;
  }
  return sum % 10 === 0;
};

/** Appends the Luhn check digit to a payload of digits: used by the simulators and tests to mint valid ICCIDs. */
export const withLuhnCheckDigit = (payload: string): string => {
  for (let check = 0; check <= 9; check += 1) {
    if (hasValidLuhnCheckDigit(`${payload}${check}`)) return `${payload}${check}`;
  }
  throw new Error('unreachable: one check digit always fits');
};
