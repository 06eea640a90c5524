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
}

// renderCnf writes the instance's my.cnf. mariadbd reads only this file
// (--defaults-file), never /etc/mysql.
//
// Durability is chosen over speed: innodb_flush_log_at_trx_commit=1 and
// sync_binlog=1 make every acknowledged commit survive a crash of mariadbd
// and of the machine, and keep the binlog from ever lacking a transaction
// InnoDB has, which replicas, 2PC recovery and failover all rely on.
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
`, p.dataDir, p.tmpDir, p.socket, p.pidFile, p.errorLog, p.port, p.serverID)
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
