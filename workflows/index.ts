// The worker's workflow bundle entry point.
export { checkout, statusQuery } from './checkout';
export { cancelUpdate } from './forward-steps';
export { resolveUpdate } from './manual-resolution';
