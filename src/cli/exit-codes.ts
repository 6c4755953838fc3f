// Exit codes, stable for CI use (README "Exit codes").
export const EXIT = {
  /** No finding at or above --fail-on. */
  OK: 0,
  /** Findings at or above --fail-on (scan), or "no" (can-i). */
  FINDINGS: 1,
  /** Bad arguments or flags. */
  USAGE: 2,
  /** Some input could not be read or parsed (the other inputs were still scanned). */
  UNREADABLE_INPUT: 3,
  /** A live scan could not read part of the cluster (403 on a resource): verdicts depending on it are `unknown`. */
  INCOMPLETE: 4,
  /** Cannot reach or authenticate to the cluster, or no cluster configured. */
  CLUSTER_UNAVAILABLE: 5,
  /** A fix could not be applied (conflict, dry-run rejection). Nothing was half-written. */
  FIX_FAILED: 6,
} as const;

/** An error meant for the user: printed as one line, never as a stack trace. */
export class UserError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.USAGE) {
    super(message);
    this.exitCode = exitCode;
  }
}
