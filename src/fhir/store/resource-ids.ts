// Ids the server assigns to new resources: UUIDs of RFC 9562 version 7, whose first 48 bits are the
// creation time in milliseconds and the other 74 random. Ids made later sort later, so each create's
// entries in the indexes keyed by id (resources' primary key and current-id index, search_index by
// resource) go to the right edge of the index instead of a random leaf page: fewer pages touched and
// written (and full-page images in the WAL after a checkpoint) per create. The time an id carries is
// the creation time its first version's meta.lastUpdated shows anyway.
import { randomUUID } from 'node:crypto';
import { perMillisecond } from './version-time.ts';

/** An id's first 15 characters for the current millisecond: the time in hex, with its dashes, and the version digit. */
const timePrefix = perMillisecond((ms) => {
  const time = ms.toString(16).padStart(12, '0');
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7`;
});

/** A new server-assigned resource id (lower-case UUID, version 7). */
export function newResourceId(): string {
  // randomUUID is a version 4 UUID from a cached pool of random bytes: its first 48 bits become the
  // time, its version digit 7; the variant bits (10) are already those version 7 needs.
  return timePrefix() + randomUUID().slice(15);
}
