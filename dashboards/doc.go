// Package dashboards holds what Noom ships for Grafana and Prometheus: the
// dashboards (noom-*.json, Grafana's classic JSON model, importable on
// Grafana 10 and later), the recording and alerting rules (noom-rules.yml),
// the runbook the alerts link to (RUNBOOK.md), and example configuration
// (prometheus.example.yml, provisioning/). README.md says how to use them.
//
// The files are written by hand and held to their contract by this
// package's tests: a structural lint of every dashboard, promtool's check
// and unit tests of the rules, and an end-to-end test that runs Noom with
// real traffic, scrapes it with a real Prometheus and evaluates every panel
// query and every rule expression against what Noom actually exports.
//
// The package has no Go API; it exists for its tests.
package dashboards
