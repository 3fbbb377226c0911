export * from './event.js';
export * from './domain-error.js';
export * from './money.js';
export * from './sku.js';
export * from './stream-name.js';
export * from './line.js';
