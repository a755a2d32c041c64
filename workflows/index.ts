// The worker's workflow bundle entry point.
export { checkout, statusQuery } from './checkout';
