/** nowTimestamp (protocol/objects.ts) formats whole seconds and keeps the last one: any order of times gives each its own second. */
import t from 'tap';
import { nowTimestamp } from '../protocol/objects.js';

t.test('whole seconds, RFC 3339, right whatever order the times come in', async (t) => {
  const at = Date.parse('2026-11-27T21:20:05.250Z');
  t.equal(nowTimestamp(at), '2026-11-27T21:20:05Z');
  t.equal(nowTimestamp(at + 700), '2026-11-27T21:20:05Z', 'the same second');
  t.equal(nowTimestamp(at + 750), '2026-11-27T21:20:06Z', 'the next one');
  t.equal(nowTimestamp(at - 3_600_000), '2026-11-27T20:20:05Z', 'an earlier time after a later one');
  t.equal(nowTimestamp(at + 750), '2026-11-27T21:20:06Z', 'and back');
  t.equal(nowTimestamp(0), '1970-01-01T00:00:00Z');
  t.match(nowTimestamp(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'now, without an argument');
});
