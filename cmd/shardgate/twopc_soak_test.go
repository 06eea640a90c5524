package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// TestTwoPCBankSoak: 8 clients move money between 16 accounts spread over
// 4 shards for 60 s in twopc mode while the gateway process is SIGKILLed
// and restarted at random (at least 5 times). At the end the total is
// unchanged and no prepared branch is left.
func TestTwoPCBankSoak(t *testing.T) {
	const (
		accounts = 16
		initial  = 1000
		clients  = 8
		duration = 60 * time.Second
		minKills = 5
	)
	h := newTwoPCHarness(t)
	// Every kill makes each client's driver log a broken connection.
	_ = mysql.SetLogger(log.New(io.Discard, "", 0))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	var mu sync.Mutex // guards gw
	gw := h.startGateway(addr, "")
	setup := gw.db(t, "")
	for _, q := range []string{"drop table if exists bank", "create table bank (id bigint primary key, balance bigint not null)"} {
		if _, err := setup.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for id := 1; id <= accounts; id++ {
		if _, err := setup.Exec("insert into bank (id, balance) values (?, ?)", id, initial); err != nil {
			t.Fatal(err)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var committed, failed atomic.Int64
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(c), 42))
			// A short lock wait: rows of a dead gateway's prepared
			// transactions stay locked until the resolver finishes them.
			db, err := sql.Open("mysql", fmt.Sprintf("root@tcp(%s)/service?timeout=2s&readTimeout=10s&writeTimeout=5s&innodb_lock_wait_timeout=3", addr))
			if err != nil {
				t.Error(err)
				return
			}
			defer db.Close()
			for ctx.Err() == nil {
				from, to := 1+r.IntN(accounts), 1+r.IntN(accounts)
				if from == to {
					continue
				}
				if err := transfer(db, from, to, 1+r.IntN(50)); err != nil {
					failed.Add(1)
					time.Sleep(20 * time.Millisecond)
					continue
				}
				committed.Add(1)
			}
		}()
	}

	kills, orphans := 0, 0 // orphans: prepared branches seen right after a kill
	for {
		wait := time.Duration(4000+rand.IntN(4000)) * time.Millisecond
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		if ctx.Err() != nil {
			break
		}
		mu.Lock()
		gw.kill()
		kills++
		for _, n := range h.prepared() {
			orphans += n
		}
		gw = h.startGateway(addr, "")
		mu.Unlock()
	}
	wg.Wait()
	if kills < minKills {
		t.Errorf("gateway killed %d times, want at least %d", kills, minKills)
	}
	if committed.Load() == 0 {
		t.Fatal("no transfer committed")
	}
	t.Logf("%d kills (leaving %d prepared branches to the resolver), %d transfers committed, %d failed (retried)", kills, orphans, committed.Load(), failed.Load())

	if err := h.waitResolved(60 * time.Second); err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, sh := range h.shards {
		var sum sql.NullInt64
		if err := h.shardDB(sh).QueryRow("select sum(balance) from bank").Scan(&sum); err != nil {
			t.Fatal(err)
		}
		total += sum.Int64
	}
	if total != accounts*initial {
		t.Errorf("total balance %d, want %d", total, accounts*initial)
	}
	for sh, n := range h.prepared() {
		if n != 0 {
			t.Errorf("shard %s: %d prepared branches left", sh, n)
		}
	}
}

// transfer moves amount between two accounts in one transaction, locking
// the lower id first (fewer deadlocks; those that happen are retried).
func transfer(db *sql.DB, from, to, amount int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	first, second := from, to
	d1, d2 := -amount, amount
	if first > second {
		first, second, d1, d2 = second, first, d2, d1
	}
	if _, err := tx.Exec("update bank set balance = balance + ? where id = ?", d1, first); err != nil {
		return err
	}
	if _, err := tx.Exec("update bank set balance = balance + ? where id = ?", d2, second); err != nil {
		return err
	}
	return tx.Commit()
}
