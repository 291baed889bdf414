// The warnings and errors among a site process's log lines, for the message of a wait that timed out:
// what the site itself reported as going wrong (a job that failed its retries, a message it could not
// send) is usually the reason a Task never reached its status. The BPE writes text lines
// (`<time> WARN  [source] message`), the FHIR server JSON lines of pino (`"level":40` and up).
const TEXT_PROBLEM = /^\S+ (WARN|ERROR)\b/;
const JSON_PROBLEM = /"level":(40|50|60)\b/;

/** The last `most` warning and error lines, oldest first. */
export function recentProblems(lines: readonly string[], most = 10): string[] {
  const found: string[] = [];
  for (let i = lines.length - 1; i >= 0 && found.length < most; i--) {
    const line = lines[i]!;
    if (TEXT_PROBLEM.test(line) || JSON_PROBLEM.test(line)) found.push(line);
  }
  return found.reverse();
}
