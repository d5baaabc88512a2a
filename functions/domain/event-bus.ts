/** The event port: puts events on the service's bus. */
import type { PublishedEvent } from './events.ts';

export interface EventPublisher {
  publish(events: PublishedEvent[]): Promise<void>;
}
