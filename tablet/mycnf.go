package tablet

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// cnfParams are the per-instance values of my.cnf.
type cnfParams struct {
	dataDir, tmpDir, socket, pidFile, errorLog string
	port                                       int
	serverID                                   uint32
	// waitForReplica: the shard has replicas, so commits wait for one's
	// acknowledgement however long it takes (see MysqldConfig).
	waitForReplica bool
}

// renderCnf writes the instance's my.cnf. mariadbd reads only this file
// (--defaults-file), never /etc/mysql.
//
// Durability is chosen over speed: innodb_flush_log_at_trx_commit=1 and
// sync_binlog=1 make every acknowledged commit survive a crash of mariadbd
// and of the machine, and keep the binlog from ever lacking a transaction
// InnoDB has, which replicas, 2PC recovery and failover all rely on.
//
// Replication is semi-synchronous with wait point AFTER_SYNC: a commit is
// acknowledged to the client only once a replica has the transaction in
// its relay log, so promoting the most advanced replica loses no
// acknowledged write. Every instance gets both the primary and the replica
// side, so a replica promoted by failover acts as a semi-sync primary at
// once.
//
// How long a primary waits for that acknowledgement depends on whether
// its shard has replicas (MysqldConfig.WaitForReplica, SemiSyncSettings):
// with replicas it waits without limit and never falls back to
// asynchronous, so no write is acknowledged that only the primary has (a
// primary frozen and resumed after a failover would otherwise finish its
// waiting commits alone and answer OK); a shard whose replicas are all
// down stalls its writes instead. A lone primary (no replicas configured)
// waits for none it does not have.
//
// A primary killed while a transaction waited for its acknowledgement keeps
// that transaction (written to its binlog, never acknowledged to a client)
// after a restart: an errant GTID that stops it from replicating from the
// primary that replaced it ("An attempt was made to binlog GTID 0-B-131
// which would create an out-of-order sequence number with existing GTID
// 0-A-131"). init_rpl_role=SLAVE would have crash recovery discard such
// transactions, but it also discarded a committed, acknowledged one of a
// lone primary (TestMysqldLifecycle), so it is not set: failover leaves
// such an instance drained and read-only, to be rebuilt.
func renderCnf(p cnfParams) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `# Written by shardgate (tablet.Mysqld.Init), rewritten by every Init:
# edits here do not last.
[mysqld]
datadir = %s
tmpdir = %s
socket = %s
pid-file = %s
log-error = %s
port = %d
bind-address = 127.0.0.1
skip-name-resolve
server_id = %d

# Replication: row-based binlogs with GTIDs, applied in strict mode.
log_bin = binlog
relay_log = relay-bin
log_slave_updates = ON
binlog_format = ROW
gtid_strict_mode = ON
skip_slave_start = ON

# Semi-synchronous replication, AFTER_SYNC: see tablet/mycnf.go.
rpl_semi_sync_master_wait_point = AFTER_SYNC
rpl_semi_sync_slave_enabled = ON
%s
# Durability: see tablet/mycnf.go.
innodb_flush_log_at_trx_commit = 1
sync_binlog = 1

# Small: several instances share one machine (about 75 MiB each).
innodb_buffer_pool_size = 64M
innodb_log_file_size = 32M
performance_schema = OFF
max_connections = 500
max_allowed_packet = 64M

character_set_server = utf8mb4
collation_server = utf8mb4_general_ci
`, p.dataDir, p.tmpDir, p.socket, p.pidFile, p.errorLog, p.port, p.serverID, semiSyncCnf(p.waitForReplica))
	return b.Bytes()
}

// readCnfPort returns the port my.cnf names, 0 if none.
func readCnfPort(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer func() { _ = f.Close() }()
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, v, ok := strings.Cut(s.Text(), "=")
		if ok && strings.TrimSpace(k) == "port" {
			if port, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
				return port
			}
		}
	}
	return 0
}

// semiSyncCnf is my.cnf's part of SemiSyncSettings.
func semiSyncCnf(waitForReplica bool) string {
	var b strings.Builder
	for _, kv := range SemiSyncSettings(waitForReplica) {
		fmt.Fprintf(&b, "%s = %s\n", kv[0], kv[1])
	}
	return b.String()
}

// losslessTimeout is rpl_semi_sync_master_timeout (ms) where the shard
// has replicas: a year, so the wait never falls back to asynchronous in
// practice.
const losslessTimeout = "31536000000"

// SemiSyncSettings are the primary side's semi-sync variables, in the
// order to set them: with waitForReplica (the shard has replicas) a
// commit waits for a replica's acknowledgement without limit, even with
// no replica connected; without (a lone primary) a primary with no
// semi-sync replica connected does not wait, and one whose replica
// stops answering waits 5 s before going asynchronous. All are dynamic:
// SetSemiSync changes them on a running instance.
func SemiSyncSettings(waitForReplica bool) [][2]string {
	if waitForReplica {
		return [][2]string{
			{"rpl_semi_sync_master_timeout", losslessTimeout},
			{"rpl_semi_sync_master_wait_no_slave", "ON"},
			{"rpl_semi_sync_master_enabled", "ON"},
		}
	}
	return [][2]string{
		{"rpl_semi_sync_master_wait_no_slave", "OFF"},
		{"rpl_semi_sync_master_timeout", "5000"},
		{"rpl_semi_sync_master_enabled", "ON"},
	}
}
