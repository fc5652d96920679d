/** SOCKS5 reply codes (RFC 1928 §6). */
export enum Socks5Reply {
  Succeeded = 0x00,
  GeneralFailure = 0x01,
  NotAllowed = 0x02,
  NetworkUnreachable = 0x03,
  HostUnreachable = 0x04,
  ConnectionRefused = 0x05,
  TtlExpired = 0x06,
  CommandNotSupported = 0x07,
  AddressTypeNotSupported = 0x08,
}

/** Why a connection could not be opened, with the reply a client should get. */
export class DialFailure extends Error {
  constructor(
    message: string,
    readonly reply: Socks5Reply,
    /** Per-source errors that led here, for logs. */
    readonly attempts: readonly { sourceId: string; error: string }[] = [],
  ) {
    super(message);
    this.name = 'DialFailure';
  }
}

/**
 * Maps a dial error to a SOCKS5 reply. Dialers throw Node errors (errno codes)
 * or errors carrying `socksReply` (e.g. a chained proxy's own reply).
 */
export function replyFor(err: unknown): Socks5Reply {
  if (err instanceof DialFailure) return err.reply;
  const e = err as { code?: unknown; socksReply?: unknown; name?: unknown } | undefined;
  if (typeof e?.socksReply === 'number' && e.socksReply > 0 && e.socksReply <= 0x08) return e.socksReply;
  switch (e?.code) {
    case 'ECONNREFUSED':
      return Socks5Reply.ConnectionRefused;
    case 'ENETUNREACH':
    case 'ENETDOWN':
    case 'EADDRNOTAVAIL':
      return Socks5Reply.NetworkUnreachable;
    case 'EHOSTUNREACH':
    case 'EHOSTDOWN':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
    case 'EAI_NODATA':
    case 'EAI_FAIL':
      return Socks5Reply.HostUnreachable;
    case 'ESOURCEDOWN':
      return Socks5Reply.NetworkUnreachable;
    case 'ETIMEDOUT':
    case 'ABORT_ERR':
      return Socks5Reply.TtlExpired;
    case 'EACCES':
    case 'EPERM':
      return Socks5Reply.NotAllowed;
    default:
      return e?.name === 'TimeoutError' ? Socks5Reply.TtlExpired : Socks5Reply.GeneralFailure;
  }
}

export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
