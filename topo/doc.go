// Package topo is shardgate's topology: keyspaces, shards, tablets,
// vschemas and the serving graph, stored as JSON in etcd.
//
// A Store reads and writes the topology; WatchSnapshots hands every change
// to a gateway as a consistent Snapshot. StartEmbedded runs an in-process
// etcd for a laptop, CI and tests.
//
// Key layout under Config.Root (default "/shardgate"):
//
//	keyspaces/{keyspace}        Keyspace
//	shards/{keyspace}/{shard}   Shard
//	vschemas/{keyspace}         vschema.Keyspace (Vitess vschema JSON)
//	srvkeyspaces/{keyspace}     SrvKeyspace (serving graph)
//	tablets/{cell}-{uid}        Tablet (uid padded to 10 digits)
//	locks/{name}/...            Lock (etcd concurrency mutex keys)
//	workflows/{keyspace}/{name} Workflow (resharding, table moves)
//	reshard/leader/...          the resharding controller's election
//	health/{cell}-{uid}         TabletHealth (written by the failover controller)
//	holds/{id}                  Hold (hold.go: the hold/ack protocol)
//	holdacks/{id}/{gateway}     a gateway's acknowledgement of a hold
//	gateways/{id}               a live gateway's presence (lease-backed)
//	users/{name}                User (gateway users, password hashes, grants)
//
// Changes to locks, workflows, the resharding election, hold
// acknowledgements, gateway presence and users deliver no new Snapshot: none of
// them affects routing, and copy progress is saved after every chunk.
// Nor do health records: they change every second on a lagging replica,
// and gateways follow them with WatchTabletHealth. Holds do (WatchHolds).
//
// The topology knows no SQL and no client: of ours, topo imports only
// vindex, its vschema types and sqlerror (never planner, engine, gateway or
// tablet), and talks only to etcd.
package topo
