// dashboards/ as the tests read them: the Grafana dashboard's panels and queries, the alerting rules' names.
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './harness.mjs';

export const DASHBOARD_FILE = path.join(ROOT, 'dashboards', 'tcpinfo.json');
export const ALERTS_FILE = path.join(ROOT, 'dashboards', 'alerts.yml');
/** promtool's unit tests of ALERTS_FILE. */
export const ALERTS_TEST_FILE = path.join(ROOT, 'test', 'fixtures', 'alerts.test.yml');

export function readDashboard() {
  return JSON.parse(fs.readFileSync(DASHBOARD_FILE, 'utf8'));
}

/** Every panel, rows' own and those of collapsed rows included, in the file's order. */
export function panelsOf(dashboard) {
  return dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** Each query of the dashboard: `{ panel, refId, expr }`. */
export function queriesOf(dashboard) {
  return panelsOf(dashboard).flatMap((panel) => (panel.targets ?? []).map((t) => ({ panel: panel.title, refId: t.refId, expr: t.expr })));
}

/** The names of the alerting rules of ALERTS_FILE. */
export function alertNames() {
  return [...fs.readFileSync(ALERTS_FILE, 'utf8').matchAll(/^\s*- alert: (\w+)$/gm)].map((m) => m[1]);
}
