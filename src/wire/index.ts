export * from './errors';
export * from './framing';
export * from './messages';
export * from './json';
export * from './link-report';
export { finiteNumber, wholeNumber } from './fields';
export * from './typed';
