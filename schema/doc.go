// Package schema is the schema tracker: it learns every table's columns
// from the shards (information_schema.COLUMNS of one serving shard per
// sharded keyspace) and keeps them in etcd (topo.TrackedSchema, one record
// per keyspace), so that every gateway plans column-less INSERTs and *
// with the same columns.
//
// Two paths write the record: Tracker, a leader-elected loop (one per
// etcd root, run by the gateways like the 2PC resolver) that re-reads
// every sharded keyspace on a timer and so notices DDL sent around the
// gateways; and Refresh, which a gateway calls after DDL it ran itself
// and then waits for its own snapshot to carry the result. Both write only
// if the record is unchanged since they read it, so an older read never
// overwrites a newer one.
//
// The package must NOT import gateway, planner or engine: it reads shards
// through tablet and stores through topo, nothing more.
package schema
