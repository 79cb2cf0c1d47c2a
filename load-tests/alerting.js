// k6 run load-tests/alerting.js   (LOAD_MODE=smoke for a short run; ALERTING_URL to point elsewhere)
import { iterate, k6Options } from './k6-adapter.js';
import { scenarios } from './scenarios/alerting.js';

export const options = k6Options(scenarios);

export const alerting_api = () => iterate(scenarios[0]);
