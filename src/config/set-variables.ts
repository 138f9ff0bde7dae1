/**
 * The variables among `names` that are set: present and not blank (an empty
 * string counts as unset, so `AUTH_X=` in a file means "the default").
 *
 * @example
 * setVariables({ AUTH_A: "x", AUTH_B: " " }, ["AUTH_A", "AUTH_B"]); // { AUTH_A: "x" }
 */
export function setVariables(env: Record<string, string | undefined>, names: Iterable<string>): Record<string, string> {
  const input: Record<string, string> = {};
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value.trim() !== "") input[name] = value;
  }
  return input;
}
