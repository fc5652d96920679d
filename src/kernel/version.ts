/** The Booster Protocol version this node speaks (and the only one it accepts). */
export const PROTOCOL_VERSION = '0.3';
