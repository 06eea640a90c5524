// Package compat holds no code: its tests run the drivers and tools people
// use (go-sql-driver, GORM, MariaDB Connector/J, PyMySQL, Node mysql2, the
// mariadb CLI and mariadb-dump) against a gateway over a cluster with an
// unsharded keyspace and a 2-shard one, and compare what the gateway
// answers with what MariaDB answers directly.
//
// The clients are installed by scripts/install-deps.sh (make test runs it).
package compat
