/**
 * Pure masking rules of contract §7 that the error reports need. Every
 * function here is total and never returns more of the input than the
 * contract allows.
 */

/** Keeps the last four digits, each other digit becomes `*`; separators are dropped. */
export const maskDigitsKeepLastFour = (value: string): string => {
  const digits = value.replace(/\D/g, "")
  if (digits.length <= 4) return "*".repeat(digits.length)
  return "*".repeat(digits.length - 4) + digits.slice(-4)
}

/** The Luhn check over a string of digits only. */
export const luhnValid = (digits: string): boolean => {
  let sum = 0
  let double = false
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48
    if (d < 0 || d > 9) return false
    if (double) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
    double = !double
  }
  return digits.length > 0 && sum % 10 === 0
}
