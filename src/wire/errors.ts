/** A packet or message that breaks the Booster Protocol; the stream it came on must be closed. */
export class WireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireError';
  }
}
