package tablet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// MysqldConfig describes one local mariadbd instance.
type MysqldConfig struct {
	// Dir holds everything of the instance: data/, tmp/, my.cnf,
	// mysqld.sock, mysqld.pid, error.log. (Only if Dir is so long that
	// Dir/mysqld.sock would pass the 107-byte limit of a unix socket path
	// does the socket go to the system temp directory instead, named
	// after a hash of Dir.)
	Dir string
	// Port is the TCP port on 127.0.0.1. 0 picks a free one at the first
	// Init and keeps it in my.cnf, so restarts and later Inits keep it.
	Port int
	// ServerID is the replication server_id, unique among the instances
	// that replicate together. 0 uses the port, unique on this machine.
	ServerID uint32
	// WaitForReplica says the instance's shard has replicas: as a primary
	// it acknowledges a commit only once a replica has it, waiting without
	// limit (writes stall while every replica is down) rather than fall
	// back to asynchronous replication. False (a lone primary) never
	// waits for a replica it does not have. See tablet/mycnf.go.
	WaitForReplica bool
	// App, when set, is the least-privileged account Start creates (and
	// grants, idempotently) for gateways' application traffic
	// (accounts.go).
	App *AppAccount
	// Logger receives the instance's lifecycle events; nil discards.
	Logger *slog.Logger
}

// Mysqld manages one local mariadbd: initialises its directory, starts
// and stops the process, and sets up replication. Its methods are safe to
// call from several goroutines.
//
// A mariadbd started here never outlives the Go process that started it:
// see spawn for how (Pdeathsig on a locked thread).
type Mysqld struct {
	cfg  MysqldConfig
	log  *slog.Logger
	port atomic.Int64

	// findBinary locates mariadbd and mariadb-install-db (replaced in
	// tests).
	findBinary func(name string) (string, error)

	mu   sync.Mutex // serialises Init, Start, Stop, Kill
	proc *process   // the running mariadbd; nil before Start and after Stop
}

// Names of the accounts Start creates for TCP clients.
const (
	// RootUser@'127.0.0.1' has no password and all privileges.
	RootUser = "root"
	// ReplicationUser@'127.0.0.1' (password ReplicationPassword) may
	// replicate.
	ReplicationUser     = "repl"
	ReplicationPassword = "repl"
)

// maxSocketPath is the longest unix socket path (sun_path is 108 bytes
// with its NUL), less a margin.
const maxSocketPath = 100

// NewMysqld returns a Mysqld for cfg; nothing happens until Init.
func NewMysqld(cfg MysqldConfig) *Mysqld {
	if cfg.Dir != "" {
		if abs, err := filepath.Abs(cfg.Dir); err == nil {
			cfg.Dir = abs
		}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Mysqld{cfg: cfg, log: log.With("mysqld", cfg.Dir), findBinary: findBinary}
	m.port.Store(int64(cfg.Port))
	return m
}

// findBinary looks for a MariaDB program on $PATH, then where Debian and
// tarballs put it (root's PATH has /usr/sbin, other users' may not).
func findBinary(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/mysql/bin"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", ErrNotInstalled
}

// Paths of the instance's files.
func (m *Mysqld) dataDir() string  { return filepath.Join(m.cfg.Dir, "data") }
func (m *Mysqld) tmpDir() string   { return filepath.Join(m.cfg.Dir, "tmp") }
func (m *Mysqld) cnfPath() string  { return filepath.Join(m.cfg.Dir, "my.cnf") }
func (m *Mysqld) pidPath() string  { return filepath.Join(m.cfg.Dir, "mysqld.pid") }
func (m *Mysqld) errorLog() string { return filepath.Join(m.cfg.Dir, "error.log") }

// SocketPath is the instance's unix socket.
func (m *Mysqld) SocketPath() string {
	p := filepath.Join(m.cfg.Dir, "mysqld.sock")
	if len(p) <= maxSocketPath {
		return p
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("shardgate-%x.sock", fnv64(m.cfg.Dir)))
}

func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// Dir is the instance's directory (absolute).
func (m *Mysqld) Dir() string { return m.cfg.Dir }

// Port is the instance's TCP port (known after Init, or after Start on a
// directory an earlier Init prepared).
func (m *Mysqld) Port() int { return int(m.port.Load()) }

// Addr is "127.0.0.1:PORT".
func (m *Mysqld) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(m.Port())) }

// ConnConfig is how a TCP client logs in as RootUser.
func (m *Mysqld) ConnConfig() ConnConfig {
	return ConnConfig{Addr: m.Addr(), User: RootUser, Logger: m.cfg.Logger}
}

// adminConfig logs in as root over the unix socket (unix_socket
// authentication, the only root login mariadb-install-db creates).
func (m *Mysqld) adminConfig() ConnConfig {
	return ConnConfig{Addr: m.SocketPath(), User: RootUser, Logger: m.cfg.Logger}
}

// Running tells whether the mariadbd this Mysqld started is running.
func (m *Mysqld) Running() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.proc != nil && !m.proc.exited()
}

// Init prepares the instance's directory: on the first call
// mariadb-install-db creates data/ (in data.init/, renamed when complete,
// so an interrupted Init starts over); every call (re)writes my.cnf. It
// keeps the data of an initialised directory and the port my.cnf names.
func (m *Mysqld) Init(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cfg.Dir == "" {
		return errors.New("tablet: MysqldConfig.Dir is empty")
	}
	if _, err := m.findBinary("mariadbd"); err != nil {
		return err
	}
	installDB, err := m.findBinary("mariadb-install-db")
	if err != nil {
		return err
	}
	for _, d := range []string{m.cfg.Dir, m.tmpDir()} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return fmt.Errorf("tablet: init %s: %w", m.cfg.Dir, err)
		}
	}
	if _, err := os.Stat(filepath.Join(m.dataDir(), "mysql")); errors.Is(err, os.ErrNotExist) {
		if err := m.installDB(ctx, installDB); err != nil {
			return err
		}
	} else if err != nil {
		return fmt.Errorf("tablet: init %s: %w", m.cfg.Dir, err)
	}

	port := m.cfg.Port
	if port == 0 {
		port = readCnfPort(m.cnfPath())
	}
	if port == 0 {
		if port, err = freePort(); err != nil {
			return fmt.Errorf("tablet: init %s: %w", m.cfg.Dir, err)
		}
	}
	return m.writeCnf(port)
}

// installDB runs mariadb-install-db into data.init/ and renames it data/.
func (m *Mysqld) installDB(ctx context.Context, installDB string) error {
	staging := m.dataDir() + ".init"
	if err := os.RemoveAll(staging); err != nil {
		return fmt.Errorf("tablet: init %s: %w", m.cfg.Dir, err)
	}
	args := []string{"--no-defaults", "--datadir=" + staging, "--tmpdir=" + m.tmpDir(),
		"--skip-test-db", "--skip-name-resolve"}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	cmd := exec.Command(installDB, args...)
	cmd.Dir = m.cfg.Dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	m.log.Info("tablet: initialising data directory", "cmd", installDB)
	p, err := spawn(cmd, nil)
	if err != nil {
		return fmt.Errorf("tablet: init %s: %w", m.cfg.Dir, err)
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		killGroup(cmd)
		<-p.done
		return fmt.Errorf("tablet: init %s: mariadb-install-db: %w", m.cfg.Dir, ctx.Err())
	}
	if p.err != nil {
		return fmt.Errorf("tablet: init %s: mariadb-install-db: %w\n%s", m.cfg.Dir, p.err, lastLines(out.Bytes(), 30))
	}
	if err := os.Rename(staging, m.dataDir()); err != nil {
		return fmt.Errorf("tablet: init %s: %w", m.cfg.Dir, err)
	}
	return nil
}

// writeCnf (re)writes my.cnf for port, atomically.
func (m *Mysqld) writeCnf(port int) error {
	id := m.cfg.ServerID
	if id == 0 {
		id = uint32(port)
	}
	cnf := renderCnf(cnfParams{
		dataDir:  m.dataDir(),
		tmpDir:   m.tmpDir(),
		socket:   m.SocketPath(),
		pidFile:  m.pidPath(),
		errorLog: m.errorLog(),
		port:     port,
		serverID: id,

		waitForReplica: m.cfg.WaitForReplica,
	})
	tmp := m.cnfPath() + ".tmp"
	if err := os.WriteFile(tmp, cnf, 0o644); err != nil {
		return fmt.Errorf("tablet: write my.cnf: %w", err)
	}
	if err := os.Rename(tmp, m.cnfPath()); err != nil {
		return fmt.Errorf("tablet: write my.cnf: %w", err)
	}
	m.port.Store(int64(port))
	return nil
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start starts mariadbd in the background and returns once it accepts
// connections and the TCP accounts exist: RootUser@'127.0.0.1' (no
// password, all privileges), ReplicationUser@'127.0.0.1' and, if
// configured, the App account (accounts.go), created
// idempotently over the unix socket with sql_log_bin=0, so they never
// replicate. ctx bounds the wait. If mariadbd exits meanwhile, the error
// holds the end of error.log. Starting a running instance does nothing.
//
// With an automatic port (MysqldConfig.Port 0), a port taken by someone
// else since Init is replaced by a free one.
func (m *Mysqld) Start(ctx context.Context) error {
	return m.start(ctx, nil)
}

// readOnlyArgs start an instance read-only from its first moment,
// waiting for no replica's acknowledgement.
var readOnlyArgs = []string{"--read-only=ON", "--rpl-semi-sync-master-enabled=OFF"}

// replicaRecoveryArg has crash recovery discard the transactions the
// instance had written to its binlog but not committed (those that waited
// for a replica's acknowledgement when it died: never acknowledged to a
// client). Kept, they would be errant transactions that stop it from
// replicating from its replacement. (Not for a primary that stays
// primary: the same recovery can discard a committed, acknowledged
// transaction that a lone primary alone had; see tablet/mycnf.go.)
const replicaRecoveryArg = "--init-rpl-role=SLAVE"

// StartDemoted is Start for a former primary that another instance
// replaced while it was down: it comes back read-only, and its crash
// recovery first tries to discard its unacknowledged transactions
// (replicaRecoveryArg). MariaDB refuses that recovery, and the start,
// when the binlog tail it would cut holds what it can't cut (an XA
// PREPARE); the instance is then started with ordinary recovery, still
// read-only, keeping those transactions: it may then be unable to follow
// its replacement, and needs rebuilding (localcluster does). Only this
// start is demoted: a later Start reads my.cnf alone.
func (m *Mysqld) StartDemoted(ctx context.Context) error {
	err := m.start(ctx, append([]string{replicaRecoveryArg}, readOnlyArgs...))
	if err == nil || ctx.Err() != nil {
		return err
	}
	m.log.Warn("tablet: crash recovery as a replica failed; starting with ordinary recovery, read-only", "err", err)
	return m.start(ctx, readOnlyArgs)
}

// start is Start with extra mariadbd options.
func (m *Mysqld) start(ctx context.Context, extra []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.proc != nil && !m.proc.exited() {
		return nil
	}
	m.proc = nil
	if _, err := os.Stat(filepath.Join(m.dataDir(), "mysql")); err != nil {
		return fmt.Errorf("%w: %s", ErrNotInitialized, m.cfg.Dir)
	}
	port := readCnfPort(m.cnfPath())
	if port == 0 {
		return fmt.Errorf("%w: %s has no port", ErrNotInitialized, m.cnfPath())
	}
	m.port.Store(int64(port))
	if pid, ok := m.runningElsewhere(); ok {
		return fmt.Errorf("%w: %s (pid %d)", ErrAlreadyRunning, m.cfg.Dir, pid)
	}
	mariadbd, err := m.findBinary("mariadbd")
	if err != nil {
		return err
	}

	for attempt := 1; ; attempt++ {
		p, admin, err := m.startOnce(ctx, mariadbd, extra)
		if err == nil {
			err = m.createUsers(ctx, admin)
			_ = admin.Close()
			if err == nil {
				m.proc = p
				m.log.Info("tablet: mariadbd ready", "pid", p.pid, "addr", m.Addr())
				return nil
			}
			m.stopProcess(p)
			return err
		}
		var inUse addrInUseError
		if m.cfg.Port != 0 || attempt == 3 || !errors.As(err, &inUse) {
			return err
		}
		port, perr := freePort()
		if perr != nil {
			return err
		}
		m.log.Warn("tablet: port taken, moving to another", "port", m.Port(), "new_port", port)
		if werr := m.writeCnf(port); werr != nil {
			return werr
		}
	}
}

// addrInUseError is a start that failed because the port was taken.
type addrInUseError struct{ error }

func (e addrInUseError) Unwrap() error { return e.error }

// startOnce starts mariadbd and waits until the admin login works.
func (m *Mysqld) startOnce(ctx context.Context, mariadbd string, extra []string) (*process, *Conn, error) {
	logStart := fileSize(m.errorLog())
	logFile, err := os.OpenFile(m.errorLog(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("tablet: start %s: %w", m.cfg.Dir, err)
	}
	args := []string{"--defaults-file=" + m.cnfPath()}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	args = append(args, extra...)
	cmd := exec.Command(mariadbd, args...)
	cmd.Dir = m.cfg.Dir
	// Anything mariadbd prints before it opens log-error lands there too.
	cmd.Stdout, cmd.Stderr = logFile, logFile
	p, err := spawn(cmd, m.log)
	_ = logFile.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("tablet: start %s: %w", m.cfg.Dir, err)
	}
	m.log.Info("tablet: mariadbd started", "pid", p.pid, "port", m.Port())

	admin, err := m.waitReady(ctx, p, logStart)
	if err != nil {
		m.stopProcess(p)
		return nil, nil, err
	}
	return p, admin, nil
}

// waitReady polls the unix socket until the admin login works, mariadbd
// exits, or ctx ends.
func (m *Mysqld) waitReady(ctx context.Context, p *process, logStart int64) (*Conn, error) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		c, err := Dial(dctx, m.adminConfig())
		cancel()
		if err == nil {
			return c, nil
		}
		if isServerError(err) {
			return nil, fmt.Errorf("tablet: start %s: admin login over %s: %w", m.cfg.Dir, m.SocketPath(), err)
		}
		select {
		case <-p.done:
			tail := lastLines(readFrom(m.errorLog(), logStart), 20)
			err := fmt.Errorf("tablet: start %s: mariadbd exited during startup (%s); end of %s:\n%s",
				m.cfg.Dir, exitStatus(p.err), m.errorLog(), tail)
			if bytes.Contains(tail, []byte("Address already in use")) {
				return nil, addrInUseError{err}
			}
			return nil, err
		case <-ctx.Done():
			tail := lastLines(readFrom(m.errorLog(), logStart), 20)
			return nil, fmt.Errorf("tablet: start %s: mariadbd did not accept connections on %s: %w; end of %s:\n%s",
				m.cfg.Dir, m.SocketPath(), ctx.Err(), m.errorLog(), tail)
		case <-tick.C:
		}
	}
}

// createUsers creates the TCP accounts, idempotently and unreplicated.
func (m *Mysqld) createUsers(ctx context.Context, admin *Conn) error {
	for _, q := range []string{
		"SET SESSION sql_log_bin = 0",
		"CREATE USER IF NOT EXISTS '" + RootUser + "'@'127.0.0.1'",
		"GRANT ALL PRIVILEGES ON *.* TO '" + RootUser + "'@'127.0.0.1' WITH GRANT OPTION",
		"CREATE USER IF NOT EXISTS '" + ReplicationUser + "'@'127.0.0.1' IDENTIFIED BY '" + ReplicationPassword + "'",
		"GRANT REPLICATION SLAVE ON *.* TO '" + ReplicationUser + "'@'127.0.0.1'",
	} {
		if _, err := admin.Execute(ctx, q); err != nil {
			return fmt.Errorf("tablet: start %s: %s: %w", m.cfg.Dir, q, err)
		}
	}
	return m.createAppAccount(ctx, admin)
}

// runningElsewhere tells whether mysqld.pid names a live mariadbd of this
// directory that we did not start (another shardgate, or a leftover).
func (m *Mysqld) runningElsewhere() (int, bool) {
	b, err := os.ReadFile(m.pidPath())
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return 0, false
	}
	return pid, bytes.Contains(cmdline, []byte("--defaults-file="+m.cnfPath()+"\x00"))
}

// Wipe deletes the data of a stopped instance, so that the next Init
// creates it anew (the port my.cnf names is kept). For a replica that
// cannot follow its primary any more and is rebuilt from it.
func (m *Mysqld) Wipe() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.proc != nil && !m.proc.exited() {
		return fmt.Errorf("tablet: wipe %s: mariadbd is running", m.cfg.Dir)
	}
	if err := os.RemoveAll(m.dataDir()); err != nil {
		return fmt.Errorf("tablet: wipe %s: %w", m.cfg.Dir, err)
	}
	return nil
}

// Stop shuts mariadbd down cleanly (SIGTERM) and waits for it to exit; if
// ctx ends first it is SIGKILLed and Stop returns an error saying so.
// Stopping a stopped instance does nothing.
func (m *Mysqld) Stop(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.proc
	m.proc = nil
	if p == nil || p.exited() {
		return nil
	}
	p.stopping.Store(true)
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		killGroup(p.cmd)
		<-p.done
		return fmt.Errorf("tablet: stop %s: mariadbd did not shut down in time and was killed: %w", m.cfg.Dir, ctx.Err())
	}
}

// Kill SIGKILLs mariadbd, as a crash would, and waits until it is gone.
// Killing a stopped instance does nothing.
func (m *Mysqld) Kill() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.proc
	m.proc = nil
	if p != nil {
		m.stopProcess(p)
	}
	return nil
}

// Signal sends sig to the running mariadbd: tests freeze an instance
// with SIGSTOP and resume it with SIGCONT, as a stalled machine or VM
// would. (A SIGTERM or SIGKILL sent here is not Stop or Kill: use those.)
func (m *Mysqld) Signal(sig os.Signal) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.proc == nil || m.proc.exited() {
		return fmt.Errorf("tablet: signal %s: mariadbd of %s is not running", sig, m.cfg.Dir)
	}
	p := m.proc.cmd.Process
	if err := p.Signal(sig); err != nil || sig != syscall.SIGSTOP {
		return err
	}
	// kill(2) returns before the process has stopped: wait until it has,
	// so that what a test does next meets a frozen instance (a query sent
	// at once was still answered now and then).
	for deadline := time.Now().Add(5 * time.Second); ; {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.Pid)); err == nil {
			if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) && (b[i+2] == 'T' || b[i+2] == 't') {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("tablet: mariadbd of %s not stopped 5s after SIGSTOP", m.cfg.Dir)
		}
		time.Sleep(time.Millisecond)
	}
}

// stopProcess SIGKILLs a child and waits for it.
func (m *Mysqld) stopProcess(p *process) {
	p.stopping.Store(true)
	killGroup(p.cmd)
	<-p.done
}

// fileSize is the size of a file, 0 if it does not exist.
func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// readFrom reads a file from offset on, at most its last 64 KiB.
func readFrom(path string, offset int64) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer func() { _ = f.Close() }()
	if size := fileSize(path); size-offset > 64<<10 {
		offset = size - 64<<10
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return nil
	}
	b, _ := io.ReadAll(f)
	return b
}

// lastLines returns the last n lines of b.
func lastLines(b []byte, n int) []byte {
	b = bytes.TrimRight(b, "\n")
	i := len(b)
	for ; n > 0 && i > 0; n-- {
		i = bytes.LastIndexByte(b[:i], '\n')
		if i < 0 {
			return b
		}
	}
	return b[i+1:]
}
