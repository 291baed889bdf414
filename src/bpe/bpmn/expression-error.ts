// Raised for JUEL syntax errors (at compile time) and for evaluation failures such as unknown
// identifiers (JUEL's PropertyNotFoundException) or impossible coercions. Always names the source.
export class ExpressionError extends Error {
  readonly source: string;

  constructor(source: string, detail: string) {
    super(`${detail} in expression '${source}'`);
    this.name = 'ExpressionError';
    this.source = source;
  }
}
