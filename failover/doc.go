// Package failover owns primary-failure detection and promotion: the
// controller loop that notices a shard's primary is dead, promotes its most
// advanced replica, repoints the others, updates the topology (gateways
// follow by watch) and records the recovery in etcd; and the fencing of a
// former primary that comes back (read-only, a replica of the new
// primary).
//
// # How a failover goes
//
// Controller.Run campaigns for leadership under <root>/failover/leader
// (an etcd election, as twopc's resolver does): only the elected process
// acts. Every CheckInterval it reads the topology and checks each shard's
// primary (the tablet the shard names) with a fresh login. A primary that
// fails every check for DetectAfter is dead. Then, under the shard's lock
// (topo.Store.Lock, name "keyspace/shard"):
//
//  1. the topology and the primary are checked again (another controller,
//     or an operator, may have acted; the primary may be back);
//  2. a shard failed over within DampWindow is left alone (flapping);
//  3. every replica must answer (one that does not may be the only one
//     holding an acknowledged write: MariaDB's semi-sync waits for one
//     replica, any one; the failover waits for it, unless an emergency
//     reparent names it in IgnoreReplicas); of them, the one whose relay
//     log holds the most advanced GTID position (Gtid_IO_Pos merged with
//     gtid_current_pos) is chosen: semi-sync AFTER_SYNC replication
//     (tablet/mycnf.go) makes every write a client saw acknowledged be in
//     some replica's relay log, so the most advanced one has them all;
//  4. it applies its relay log (MASTER_GTID_WAIT, bounded by
//     CatchUpTimeout), then STOP SLAVE, RESET SLAVE ALL, read_only=OFF;
//  5. the other replicas replicate from it (MASTER_USE_GTID=slave_pos);
//     its commits then wait for a replica's acknowledgement without limit
//     if one of them follows it, for none if not (tablet.SetSemiSync);
//  6. the topology changes in an order that never names two writable
//     primaries: the old primary's tablet becomes drained (no gateway
//     writes to or reads from it), the shard names the new primary, the new
//     primary's tablet becomes primary;
//  7. the recovery is recorded under <root>/failover/recoveries/
//     (ListRecoveries).
//
// A replica that could not be repointed in step 5 (or was ignored by an
// emergency reparent) comes back following the old primary: every few
// seconds the controller repoints replicas that follow another instance
// than their shard's primary.
//
// Everything it decides from is in etcd or on the instances, so a newly
// elected controller resumes: a half-done promotion is found again (the
// old primary is still named and still dead) and redone; a promoted
// replica that is no longer replicating still has the most advanced
// position.
//
// # Fencing
//
// A drained tablet that answers again stops waiting for acknowledgements
// (a primary frozen and resumed still has commits waiting: they commit
// there, errant, and no gateway hears of them, gateways having cut their
// connections when the topology drained it; read_only would otherwise wait
// for them forever), is set read-only, made a replica of its shard's
// primary and, once it has applied what that primary had (or keeps
// applying for a while), typed replica again; the shard's primary then
// waits for a replica's acknowledgement again. One whose replication
// stops on a transaction the primary lacks stays drained (under `shardgate
// up` the local cluster's supervision rebuilds it).
//
// # Tablet health
//
// The leader also checks every tablet each CheckInterval, on a goroutine
// of its own (health.go), so that a slow replica never delays the
// detection of a dead primary: a fresh login, read_only, gtid_current_pos
// and SHOW SLAVE STATUS (threads running, Seconds_Behind_Master; NULL, as
// when a thread is stopped, is an unknown lag). It writes one
// topo.TabletHealth per tablet under <root>/health/{alias} when something
// changed (the lag counted in buckets: every second up to a minute) or
// every HealthRefresh, and removes the records of tablets that left.
// Gateways follow those records to choose the replicas they read from.
//
// # What it must not do
//
// It imports topo, tablet, sqlerror, sqlquote and the standard library, plus the
// etcd client (the election) and go-mysql's error type (a server that
// answers with an error is alive); never gateway or planner, and it never
// sends a client's statement anywhere. It keeps no package-level state.
// Its goroutines belong to Run and end before Run returns.
//
// # Reparents
//
// An operator's reparent (RequestReparent, `shardctl reparent`) is
// written to etcd and carried out by the elected controller from its
// check loop: a planned reparent holds the shard's writes in every
// gateway through the topo hold/ack protocol while the chosen replica
// catches up with the read-only old primary (reparent_planned.go); an
// emergency reparent runs the failover above at once
// (reparent_emergency.go). Both are recorded as recoveries.
//
// # Not yet
//
// Rebuilding a former primary that can't follow its replacement outside
// `shardgate up` (a clone from the primary). (2PC across a failover needs
// nothing here: the promoted replica holds the replicated XA PREPARE and
// twopc's resolver finishes it; restarting a dead local mariadbd, and
// rebuilding one, is localcluster's Supervise.)
package failover
