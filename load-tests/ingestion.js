// k6 run load-tests/ingestion.js   (LOAD_MODE=smoke for a short run; INGESTION_URL to point elsewhere)
import { iterate, k6Options } from './k6-adapter.js';
import { scenarios } from './scenarios/ingestion.js';

export const options = k6Options(scenarios);

export const ingestion_limited = () => iterate(scenarios[0]);
export const ingestion_ceiling = () => iterate(scenarios[1]);
