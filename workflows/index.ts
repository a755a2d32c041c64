// The worker's workflow bundle entry point.
export { cancelUpdate, checkout, resolveUpdate, statusQuery } from './checkout';
