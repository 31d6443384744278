export { type CopyResult, copyEvents } from './copy-events.js';
export {
  type FanoutMode,
  type FanoutStats,
  type FanoutStore,
  type FanoutStoreOptions,
  type FanoutStoreState,
  fanoutStore,
} from './fanout-store.js';
