// k6 run load-tests/query.js   (LOAD_MODE=smoke for a short run; QUERY_URL to point elsewhere)
import { iterate, k6Options } from './k6-adapter.js';
import { scenarios } from './scenarios/query.js';

export const options = k6Options(scenarios);

export const query_dashboard = () => iterate(scenarios[0]);
