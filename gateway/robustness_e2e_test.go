package gateway_test

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"

	"github.com/shardgate/shardgate/gateway"
	"github.com/shardgate/shardgate/gateway/gatewaytest"
)

// robustHeapBound is the most heap the test process (gateway and its
// 2,000 clients) may have in use at any point. Before issue 15's fixes
// the 100 huge length headers alone cost 1.6 GiB.
const robustHeapBound = 768 << 20

// TestRobustnessUnderAbuse (issue 15 acceptance): 2,000 concurrent
// connections, 400 of them misbehaving — garbage, stalls mid-packet, huge
// length headers, idle transactions, disconnects mid-transaction — while
// well-behaved clients keep getting correct answers; the heap stays under
// robustHeapBound and the gateway's goroutines return to their baseline.
func TestRobustnessUnderAbuse(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < 8192 && lim.Max >= 8192 {
		lim.Cur = 8192
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	mustExec(t, shared.db(t, "service", ""), "create table if not exists robust_t (id bigint primary key, v bigint)")
	mustExec(t, shared.db(t, "service", ""), "delete from robust_t")
	srv := startSecondGateway(t, gateway.Config{
		Limits: gateway.Limits{MaxConnections: 2500, HandshakeTimeout: 2 * time.Second,
			NetReadTimeout: 2 * time.Second, LoginFailureBurst: -1},
		TwoPC: gateway.TwoPCConfig{IdleTimeout: 3 * time.Second},
	})
	addr := srv.Addr()
	time.Sleep(200 * time.Millisecond)
	baseline := runtime.NumGoroutine()

	var peak atomic.Uint64
	stopSampling := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stopSampling:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()

	dial := func() net.Conn {
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			t.Errorf("dial: %v", err)
			return nil
		}
		return c
	}
	var abusers sync.WaitGroup
	abuse := func(n int, f func(i int)) {
		for i := range n {
			abusers.Add(1)
			go func() { defer abusers.Done(); f(i) }()
		}
	}
	// expectClosed reads until the gateway closes c (within 10 s).
	expectClosed := func(c net.Conn, what string) {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		// A reset is a close too: the gateway closes with our bytes unread.
		if _, err := io.Copy(io.Discard, c); err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("%s: not closed by the gateway: %v", what, err)
		}
		c.Close()
	}
	abuse(100, func(i int) { // garbage after the greeting
		if c := dial(); c != nil {
			junk := make([]byte, 200)
			for j := range junk {
				junk[j] = byte(rand.IntN(256))
			}
			junk[0], junk[1], junk[2], junk[3] = 100, 0, 0, 1
			_, _ = c.Write(junk)
			expectClosed(c, "garbage")
		}
	})
	abuse(100, func(i int) { // stalls mid-packet before login
		if c := dial(); c != nil {
			_, _ = c.Write([]byte{100, 0, 0, 1, 0x85, 0xa6})
			expectClosed(c, "half a handshake")
		}
	})
	abuse(100, func(i int) { // huge length headers
		if c := dial(); c != nil {
			_, _ = c.Write([]byte{0xff, 0xff, 0xff, 0x01})
			expectClosed(c, "ff ff ff 01")
		}
	})
	abuse(50, func(i int) { // idle transactions: rolled back, disconnected
		c, err := client.Connect(addr, "root", "", "service")
		if err != nil {
			t.Errorf("idle transaction login: %v", err)
			return
		}
		defer c.Close()
		if _, err := c.Execute("begin"); err != nil {
			t.Errorf("begin: %v", err)
			return
		}
		if _, err := c.Execute(fmt.Sprintf("insert into robust_t (id, v) values (%d, -1)", 1_000_000+i)); err != nil {
			t.Errorf("insert in an idle transaction: %v", err)
			return
		}
		expectClosed(c.Conn.Conn, "idle transaction")
	})
	abuse(50, func(i int) { // disconnect mid-transaction
		c, err := client.Connect(addr, "root", "", "service")
		if err != nil {
			t.Errorf("login: %v", err)
			return
		}
		_, _ = c.Execute("begin")
		_, _ = c.Execute(fmt.Sprintf("insert into robust_t (id, v) values (%d, -1)", 2_000_000+i))
		c.Conn.Conn.Close()
	})

	// 1,580 quiet logged-in clients, and 20 that work.
	quiet := make([]*client.Conn, 0, 1580)
	for range 1580 {
		c, err := client.Connect(addr, "root", "", "service")
		if err != nil {
			t.Fatalf("quiet client %d: %v", len(quiet), err)
		}
		quiet = append(quiet, c)
	}
	db := gatewaytest.Open(t, fmt.Sprintf("root@tcp(%s)/service", addr))
	db.SetMaxOpenConns(20)
	var inserted atomic.Int64
	var workers sync.WaitGroup
	deadline := time.Now().Add(15 * time.Second)
	for w := range 20 {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				id := int64(w*100_000 + i)
				if _, err := db.Exec("insert into robust_t (id, v) values (?, ?)", id, id*7); err != nil {
					t.Errorf("well-behaved insert %d: %v", id, err)
					return
				}
				var v int64
				if err := db.QueryRow("select v from robust_t where id = ?", id).Scan(&v); err != nil || v != id*7 {
					t.Errorf("well-behaved read of %d: got %d, %v, want %d", id, v, err, id*7)
					return
				}
				inserted.Add(1)
			}
		}()
	}
	workers.Wait()
	abusers.Wait()
	for i, c := range quiet {
		if i%100 == 0 {
			if r, err := c.Execute("select 1"); err != nil || len(r.Values) != 1 {
				t.Errorf("quiet client %d after the abuse: %v", i, err)
			}
		}
		c.Close()
	}
	db.Close()
	close(stopSampling)
	sampler.Wait()

	var n int64
	if err := shared.db(t, "service", "").QueryRow("select count(*) from robust_t").Scan(&n); err != nil || n != inserted.Load() {
		t.Errorf("rows: got %d, %v, want the %d acknowledged (none of the abandoned transactions')", n, err, inserted.Load())
	}
	if p := peak.Load(); p > robustHeapBound {
		t.Errorf("peak heap in use %d MiB, want under %d MiB", p>>20, robustHeapBound>>20)
	}
	t.Logf("%d well-behaved round trips, peak heap in use %d MiB", inserted.Load(), peak.Load()>>20)
	goroutinesBack := time.Now().Add(15 * time.Second)
	for runtime.NumGoroutine() > baseline+5 {
		if time.Now().After(goroutinesBack) {
			t.Fatalf("goroutines: %d, want the baseline %d", runtime.NumGoroutine(), baseline)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
