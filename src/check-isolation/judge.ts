/**
 * The verdict of one probe from its answer: a leak when the caller saw any of
 * tenant A's data or got a request accepted that should have been refused;
 * a pass when it was refused the way the route's contract says or got an
 * empty answer; an error for anything else (5xx, an unexpected status).
 * Something B may legitimately see (a system assistant) that a deployment
 * hides instead is a pass too: B learned nothing (see probes-system.ts).
 */
import type { Answer, Probe, Verdict, World } from "./types.ts";

/** A verdict with its reason. */
export interface Judgement {
  verdict: Verdict;
  detail?: string;
}

/**
 * Up to 240 characters of `text` around `needle`, on one line: what a report shows of an answer.
 *
 * @example
 * excerpt(body, secret); // "…\"content\":\"a-message-secret-…\"…"
 */
export function excerpt(text: string, needle?: string): string {
  const at = needle ? Math.max(0, text.indexOf(needle) - 80) : 0;
  const cut = text.slice(at, at + 240).replace(/\s+/g, " ");
  return `${at > 0 ? "…" : ""}${cut}${text.length > at + 240 ? "…" : ""}`;
}

/**
 * Strings that name A's resources or tenant: in a successful answer to someone else, a leak.
 * Store labels B shares (the `check_isolation` label) are left out.
 *
 * @example
 * namesOfA(world); // [["A's thread id", "0192…"], ["A's tenant_id", "\"tenant-a\""], …]
 */
function namesOfA(w: World): Array<[what: string, text: string]> {
  const ids: Array<[string, string | undefined]> = [
    ["thread", w.a.thread],
    ["run", w.a.run],
    ["assistant", w.a.assistant],
    ["checkpoint", w.a.checkpoint],
    ["pending thread", w.a.liveThread],
    ["pending run", w.a.liveRun],
    ["cron", w.a.cron],
  ];
  const names: Array<[string, string]> = ids.filter((e): e is [string, string] => Boolean(e[1])).map(([what, id]) => [`A's ${what} id`, id]);
  for (const [key, value] of Object.entries(w.a.stamped)) names.push([`A's ${key}`, JSON.stringify(value)]);
  const own = new Set(w.b.namespace);
  for (const label of w.a.namespace) if (!own.has(label)) names.push(["A's store namespace", JSON.stringify(label)]);
  return names;
}

const isAccepted = (status: number) => status === 101 || (status >= 200 && status < 300);

/**
 * Judge one answer.
 *
 * @example
 * judge(probe, { status: 404, text: "", json: undefined, contentType: null }, world); // { verdict: "pass" }
 */
export function judge(probe: Probe, answer: Answer, w: World): Judgement {
  const secret = w.secrets.find((s) => s && answer.text.includes(s));
  if (secret) return { verdict: "leak", detail: `a ${answer.status} answer holds A's secret data: ${excerpt(answer.text, secret)}` };
  if (isAccepted(answer.status)) {
    for (const [what, text] of namesOfA(w)) {
      if (answer.text.includes(text)) return { verdict: "leak", detail: `the ${answer.status} answer names ${what}: ${excerpt(answer.text, text)}` };
    }
    if (!probe.ok2xx) return { verdict: "leak", detail: `the request was accepted (${answer.status}) where it must be refused: ${excerpt(answer.text) || "(empty body)"}` };
    if (!probe.ok2xx(answer.json, w, answer.text)) {
      const saw = answer.text ? excerpt(answer.text) : "an open stream or an empty body where a refusal was due";
      return { verdict: "leak", detail: `the ${answer.status} answer is not empty: ${saw}` };
    }
    return { verdict: "pass" };
  }
  if (answer.status >= 500) return { verdict: "error", detail: `server error ${answer.status}: ${excerpt(answer.text)}` };
  if (probe.refused.includes(answer.status)) return { verdict: "pass" };
  const allowed = [...probe.refused, ...(probe.ok2xx ? ["2xx"] : [])].join("|");
  return { verdict: "error", detail: `unexpected status ${answer.status} (expected ${allowed}): ${excerpt(answer.text)}` };
}
