/**
 * A dialer that opens a `net.Socket` may pass this as the socket's `onread`
 * option: the proxy then reads the upstream without a fresh allocation per
 * chunk (about half again the single-stream throughput). `buffer` is a
 * buffer, or a function Node calls for the buffer of the next read (right
 * after each read, and once when the socket is created). The callback returns
 * false to pause the socket while a chunk still waits to be written.
 * Dialers whose sockets are read by someone else first (a SOCKS handshake)
 * ignore it.
 */
export interface ReadBufferOption {
  readonly buffer: Buffer | (() => Buffer);
  callback(bytes: number, buffer: Buffer): boolean;
}
