// Package reshard owns online resharding and table-move workflows: the
// checks and schema copy that `shardctl reshard create` makes, and the
// controller loop (Runner) that carries a recorded workflow through its
// phases. A workflow's state lives in etcd (topo.Workflow), so a
// controller that dies is replaced by another that resumes where it
// stopped, and a CLI that exits loses nothing.
//
// Done so far (the first slice):
//
//   - Create: target key ranges must cover exactly the source ranges;
//     target shards are created not serving and need a primary tablet;
//     the schema (every table's SHOW CREATE TABLE) goes from a source
//     primary to every target primary, reference tables with their rows;
//     the workflow is recorded in state copying.
//   - The copy phase (copy.go): per source shard, one consistent snapshot
//     (START TRANSACTION WITH CONSISTENT SNAPSHOT; no global read lock)
//     and its GTID position (binlog_snapshot_gtid_pos); rows read in
//     primary-key order in chunks (keyset pagination); each row sent to
//     the target that owns its keyspace id under the table's primary
//     vindex; bulk, idempotent REPLACE writes; progress saved in etcd
//     after each chunk, so a restarted runner resumes after the last
//     committed chunk. When every source shard is copied the workflow
//     moves to running.
//   - Catch-up (catchup*.go): per source shard, the binlog streamed from
//     the position the targets stored (go-mysql replication, MariaDB
//     GTIDs); row events applied idempotently to the owning target, one
//     target transaction per source transaction with the applied
//     position in _shardgate.reshard_position; XA applied at commit;
//     DDL on a source puts the workflow in state error.
//   - VDiff (vdiff*.go): run by shardctl; the catch-up pauses at the
//     sources' snapshot positions through a request in the workflow
//     record, both sides are snapshotted there and compared row by row.
//   - Runner: leader-elected through etcd (as twopc's resolver), so one
//     controller acts at a time; its progress writes are guarded by its
//     leadership.
//   - Read switching (switch_reads.go): the serving graph's read switch
//     sends a share of sessions' reads outside transactions to the
//     targets; the gateways route by it.
//   - Cancel (cancel.go): before any write switch, the workflow stops,
//     reads come back, the targets leave the topology.
//   - Under `shardgate up` (provision.go), targets without instances are
//     started by up's provisioner; PrepareTargets then copies the schema.
//   - Write switching (switch_writes*.go): the controller carries out a
//     switch recorded by shardctl — hold and acknowledgements from every
//     gateway, sources read-only, catch-up to their final positions, one
//     etcd transaction flipping the serving graph and the workflow, then
//     release — in either direction (reverse-traffic); a failure before
//     the flip undoes it, a new leader rolls back or finishes a dead
//     one's switch by its recorded phase.
//   - Reverse replication (reverse.go): catch-up with the sides swapped
//     while writes are switched.
//   - Complete (complete.go): reverse replication stops, the sources
//     leave the topology (their tables dropped with --drop).
//
// Not yet: movetables.
//
// It imports topo, tablet, vindex, sqlerror and sqlquote; never gateway, planner or
// engine: it talks to the shards directly, not through routing.
package reshard
