/**
 * A dialer that opens a `net.Socket` may pass this as the socket's `onread`
 * option: the proxy then reads the upstream into one reused buffer instead of
 * a fresh allocation per chunk (about half again the single-stream throughput).
 * The callback pauses the socket (returns false) while a chunk still waits to
 * be written, so the buffer is never overwritten under a pending write.
 * Dialers whose sockets are read by someone else first (a SOCKS handshake)
 * ignore it.
 */
export interface ReadBufferOption {
  readonly buffer: Buffer;
  callback(bytes: number, buffer: Buffer): boolean;
}
