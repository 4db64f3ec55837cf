// What `marklog verify` reports: one finding per problem, with where it is and
// what to do about it.

export type Severity = 'error' | 'warning';

export interface Finding {
  severity: Severity;
  /** A stable short name for scripts, e.g. "record-checksum". */
  check: string;
  /** Where: a file, a pair, a log volume and offset. */
  where: string;
  message: string;
  action: string;
}

export class Findings {
  readonly list: Finding[] = [];

  add(severity: Severity, check: string, where: string, message: string, action: string): void {
    this.list.push({severity, check, where, message, action});
  }

  error(check: string, where: string, message: string, action: string): void {
    this.add('error', check, where, message, action);
  }

  warning(check: string, where: string, message: string, action: string): void {
    this.add('warning', check, where, message, action);
  }

  /** Runs a check; an exception it throws becomes a finding instead of ending the verify. */
  guard(check: string, where: string, action: string, work: () => void): void {
    try {
      work();
    } catch (error) {
      this.error(check, where, (error as Error).message, action);
    }
  }
}
