// Public surface of drift monitoring on the appliance (CLI, app service, scoring).
export { createDriftObserver, type DriftObserver, type DriftObserverOptions } from './observer.ts';
export { driftForModel, monitoredModel, type DriftResult, type DriftScope, type WindowReport } from './query.ts';
export { listAlerts, type AlertQuery, type AlertScope, type DriftAlert } from './alerts.ts';
export { computePackageBaseline, writeCardBaseline, type BaselineRequest, type BaselineResult } from './baseline-file.ts';
