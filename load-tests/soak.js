// k6 run load-tests/soak.js   (watch the services' process_resident_memory_bytes while it runs)
import { iterate, k6Options } from './k6-adapter.js';
import { soak } from './scenarios/soak.js';

const FULL = __ENV.LOAD_MODE !== 'smoke';
export const options = k6Options(soak.parts, FULL ? soak.seconds.full : soak.seconds.smoke);

export const soak_ingestion = () => iterate(soak.parts[0]);
export const soak_query = () => iterate(soak.parts[1]);
