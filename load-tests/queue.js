// k6 run load-tests/queue.js   (LOAD_MODE=smoke for a short run; QUEUE_URL to point elsewhere)
import { iterate, k6Options } from './k6-adapter.js';
import { scenarios } from './scenarios/queue.js';

export const options = k6Options(scenarios);

export const queue_produce = () => iterate(scenarios[0]);
export const queue_consume = () => iterate(scenarios[1]);
