// Package twopc is shardgate's distributed commit: MariaDB/MySQL XA
// branches on the shards, a durable commit decision in etcd, and a
// resolver that finishes what a dead coordinator left prepared.
//
// # Protocol
//
// Every shard transaction of a twopc-mode session is an XA branch, begun
// with `XA START 'dtid','keyspace:shard'` when the shard joins (see Xid).
// At COMMIT:
//
//   - one participant: `XA END` + `XA COMMIT ... ONE PHASE`, pipelined in
//     one round trip; nothing is written to etcd.
//   - several: `XA END` + `XA PREPARE` on every participant in parallel;
//     then the decision "commit" is created in etcd under
//     <root>/twopc/tx/<dtid> (a create-if-absent transaction); then
//     `XA COMMIT` on every participant in parallel; then the record is
//     deleted (in the background: the client has its answer already).
//
// A failure before the decision rolls every participant back. No record
// is written for that: the protocol is presumed-abort, a prepared branch
// without a commit record is rolled back by the resolver. The one race
// this leaves — a resolver deciding "rollback" for a coordinator it
// believes dead while that coordinator is writing "commit" — is closed by
// both sides creating the record with the same create-if-absent
// transaction: whichever decision lands first wins, and the loser follows
// it.
//
// # Who may resolve
//
// A dtid starts with the hex id of its coordinator's etcd lease
// ("7c8a5e4f1b2a3c4d-42"). The resolver only touches branches whose lease
// is gone (the coordinator process died or lost etcd for longer than the
// lease TTL). A live coordinator's prepared branches are also protected by
// MariaDB itself: while the preparing connection is open, another
// connection's XA COMMIT/ROLLBACK fails with 1397.
//
// # Resolver
//
// Resolver.Run campaigns for leadership under <root>/twopc/leader
// (etcd concurrency.Election); the elected one scans every primary with
// XA RECOVER every Interval and finishes each branch per the decision
// record, then deletes records whose branches are all gone.
package twopc
