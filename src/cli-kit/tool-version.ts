/** The package's own version, for reports and export manifests. */
import { readFileSync } from "node:fs";

/**
 * The version in the package's `package.json` (the same file from `src/`
 * and from the built `dist/`: both sit two folders below it).
 *
 * @example
 * toolVersion(); // "0.1.0"
 */
export function toolVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: unknown };
  return typeof manifest.version === "string" ? manifest.version : "unknown";
}
