export type { EventDocument } from './mongodb-documents.js';
export {
  MONGODB_INDEXES,
  type MongoClientLike,
  type MongoCollectionLike,
  type MongoDbLike,
  type MongodbStore,
  type MongodbStoreOptions,
  type MongoFindCursorLike,
  mongodbStore,
} from './mongodb-store.js';
