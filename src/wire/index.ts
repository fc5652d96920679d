export * from './errors';
export * from './framing';
export * from './messages';
