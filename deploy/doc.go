// Package deploy holds what operators deploy next to shardgate: the
// Grafana dashboard (grafana/shardgate.json) and the Prometheus alert
// rules (prometheus/alerts.yml). Its only code is the test that checks
// them against the metrics the gateway exports; nothing imports it.
package deploy
