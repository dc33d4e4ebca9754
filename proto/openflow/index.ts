// proto/openflow — OpenFlow 1.3 declared once as typed data; src/openflow re-exports it.
export * from './constants.js';
export * from './errors.js';
export * from './struct.js';
export * from './oxm.js';
export * from './actions.js';
export * from './instructions.js';
export * from './port.js';
export * from './group.js';
export * from './meter.js';
export * from './table-features.js';
export * from './multipart.js';
export * from './bundle.js';
export * from './messages.js';
export * from './codec.js';
