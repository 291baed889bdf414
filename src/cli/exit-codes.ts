// Exit codes of the `dsf` command, for scripts: 0 done, 1 the thing checked or asked for failed
// (a server down, a Task failed, a plugin refused), 2 the command was used wrongly or the
// configuration is invalid.
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Wrong arguments or a configuration that cannot work: exit code 2. */
export class UsageError extends Error {}
