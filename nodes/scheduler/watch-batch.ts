/**
 * Feeds watch events to the scheduler machine in batches: the events that arrive together (one
 * socket read of NATS messages, or a watch's initial list, all delivered in one synchronous run)
 * go as one BATCH event at the next microtask — one macrostep of the machine for all of them
 * instead of one each. A lone event goes as itself. `turn`: the events of one event-loop turn
 * (setImmediate), for a source that delivers them one per microtask (the local cache).
 */
import type { SchedulerEvent, WatchFedEvent } from '../../actors/scheduler/index.js';

export function batchedSender(send: (event: SchedulerEvent) => void, defer: 'microtask' | 'turn' = 'microtask'): (event: WatchFedEvent) => void {
  let batch: WatchFedEvent[] = [];
  const flush = () => {
    const events = batch;
    batch = [];
    send(events.length === 1 ? events[0] : { type: 'BATCH', events });
  };
  return (event) => {
    if (batch.push(event) === 1) {
      if (defer === 'turn') setImmediate(flush);
      else queueMicrotask(flush);
    }
  };
}
