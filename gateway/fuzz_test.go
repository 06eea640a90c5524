package gateway

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/topo"
)

// panicLog records whether the gateway logged a recovered panic: for the
// fuzz targets, a panic is a bug even though it costs one connection only.
type panicLog struct {
	mu     sync.Mutex
	panics []string
}

func (l *panicLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *panicLog) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "panic") {
		var b strings.Builder
		r.Attrs(func(a slog.Attr) bool { b.WriteString(a.String() + "\n"); return true })
		l.mu.Lock()
		l.panics = append(l.panics, b.String())
		l.mu.Unlock()
	}
	return nil
}
func (l *panicLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *panicLog) WithGroup(string) slog.Handler      { return l }

func (l *panicLog) check(t *testing.T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.panics) > 0 {
		t.Fatalf("the gateway recovered a panic:\n%s", l.panics[0])
	}
}

// fuzzServer is a gateway with an empty topology whose connections the
// fuzz targets serve over net.Pipe.
func fuzzServer(f *testing.F) (*Server, *panicLog) {
	log := &panicLog{}
	srv, err := New(Config{Topo: noTopo{}, Logger: slog.New(log), Limits: Limits{LoginFailureBurst: -1}})
	if err != nil {
		f.Fatal(err)
	}
	srv.ctx, srv.cancel = context.WithCancel(context.Background())
	srv.topo.update(&topo.Snapshot{})
	f.Cleanup(srv.Close)
	return srv, log
}

// servePipe serves one connection over a pipe and returns the client's
// end and a channel closed when the gateway is done with it.
func servePipe(srv *Server) (net.Conn, chan struct{}) {
	cli, svr := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.serveConn(svr)
	}()
	return cli, done
}

func waitServed(t *testing.T, done chan struct{}) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the gateway still serves the connection 10s after the client closed it")
	}
}

// FuzzHandshakeResponse: no handshake response (the first packet a client
// sends, decoded by go-mysql before any login) makes the gateway panic or
// hang on the connection.
func FuzzHandshakeResponse(f *testing.F) {
	srv, log := fuzzServer(f)
	// A real response: capabilities, max packet, charset, filler, user,
	// auth data, database, plugin, attributes.
	var real bytes.Buffer
	real.Write([]byte{0x85, 0xa6, 0xff, 0x01, 0, 0, 0, 1, 0x2d})
	real.Write(make([]byte, 23))
	real.WriteString("root\x00\x00shop\x00mysql_native_password\x00")
	real.Write([]byte{0x0a, 0x03, 'a', 'b', 'c', 0x04, 'd', 'e', 'f', 'g'})
	f.Add(real.Bytes())
	f.Add([]byte{0x00, 0x0a, 0, 0, 0, 0, 0, 1, 0x21}) // SSL request without TLS
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, resp []byte) {
		cli, done := servePipe(srv)
		go func() { _, _ = io.Copy(io.Discard, cli) }()
		n := min(len(resp), 0xffffff)
		_, _ = cli.Write(append([]byte{byte(n), byte(n >> 8), byte(n >> 16), 1}, resp[:n]...))
		cli.Close()
		waitServed(t, done)
		log.check(t)
	})
}

// FuzzCommand: no command packet after a login (COM_QUERY, COM_STMT_*,
// COM_CHANGE_USER, ...: go-mysql's decoding and the gateway's handlers)
// makes the gateway panic or hang on the connection.
func FuzzCommand(f *testing.F) {
	srv, log := fuzzServer(f)
	f.Add(append([]byte{mysql.COM_QUERY}, "select 1 from dual where 1=1 and 2=2"...))
	f.Add(append([]byte{mysql.COM_STMT_PREPARE}, "select ?"...))
	f.Add([]byte{mysql.COM_STMT_EXECUTE, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, mysql.MYSQL_TYPE_LONGLONG, 0, 5, 0, 0, 0, 0, 0, 0, 0})
	f.Add(append([]byte{mysql.COM_CHANGE_USER}, "root\x00\x00shop\x00\x2d\x00mysql_native_password\x00"...))
	f.Add([]byte{mysql.COM_FIELD_LIST, 't', 0})
	f.Add([]byte{mysql.COM_STMT_SEND_LONG_DATA, 1, 0, 0, 0, 0, 0, 'x'})
	f.Fuzz(func(t *testing.T, cmd []byte) {
		cli, done := servePipe(srv)
		c, err := client.ConnectWithDialer(context.Background(), "pipe", "pipe", "root", "", "",
			func(context.Context, string, string) (net.Conn, error) { return cli, nil })
		if err != nil {
			t.Fatalf("login: %v", err)
		}
		go func() { _, _ = io.Copy(io.Discard, cli) }()
		n := min(len(cmd), 0xffffff)
		_, _ = cli.Write(append([]byte{byte(n), byte(n >> 8), byte(n >> 16), 0}, cmd[:n]...))
		c.Close()
		waitServed(t, done)
		log.check(t)
	})
}
