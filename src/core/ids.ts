import { v7 } from 'uuid';

/** A new UUIDv7: time-ordered, so ids sort like the events they name. */
export function newEventId(): string {
  return v7();
}
