import { z } from "zod";

/**
 * A variable holding a whole number in `[min, max]`, read from its string.
 * Only digits are accepted (no sign, exponent or fraction), and no more digits
 * than `max` has, so a huge string is refused before it becomes a number. The
 * one message names the variable, the unit and the range.
 *
 * @example
 * wholeNumberVariable("AUTH_CLOCK_TOLERANCE", 0, 300, "seconds").default(5);
 */
export function wholeNumberVariable(name: string, min: number, max: number, unit?: string) {
  const message = `${name} must be a whole number${unit ? ` of ${unit}` : ""} from ${min} to ${max}`;
  return z
    .string()
    .trim()
    .regex(new RegExp(`^\\d{1,${String(max).length}}$`), message)
    .transform(Number)
    .refine((n) => n >= min && n <= max, message);
}
