export {
  type HistoryEntry,
  type HistoryOptions,
  type HistoryTarget,
  iterateHistory,
  readHistory,
  toHistoryEntry,
} from './history.js';
export { type RecordVersion, versionAt } from './version-at.js';
