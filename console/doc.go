// Package console serves a gateway's status port: Prometheus metrics at
// /metrics, the live web console at / (one HTML page and one small
// script, embedded: nothing is fetched from the internet), the JSON API
// under /api/ that the console polls, and, only when asked for, the
// runtime profiles at /debug/pprof/.
//
// It reads the gateway (tablets, topology, query digests, 2PC), the
// topology store (workflows) and the failover records (recoveries); its
// VEXPLAIN box talks to the gateway over the MySQL protocol, as any
// client would, and never sends VEXPLAIN QUERIES EXECUTE, so it cannot
// change data. It must not be imported by gateway, planner, engine or
// tablet, and owns no goroutine beyond the HTTP handlers' requests (and
// the database/sql pool of the VEXPLAIN box, stopped by Close).
package console
