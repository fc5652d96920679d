export * from './errors';
export * from './framing';
export * from './messages';
export * from './json';
export * from './link-report';
export { decimalPort, finiteNumber, wholeNumber } from './fields';
export * from './typed';
