// Positional parameters of one SQL statement: add a value, get its placeholder ($1, $2, ...).
export class SqlParams {
  readonly values: unknown[] = [];

  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}
