package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/shardgate/shardgate/twopc"
)

// TestTwoPCCrashScenarios runs testdata/twopc/*: each kills the
// coordinating gateway process (SIGKILL from its own failpoint) at one
// point of a 3-shard commit, then recovers with a new gateway process and
// checks, on the shards directly, that the transfer is all-committed or
// all-rolled-back with no prepared branch left. Regenerate the traces with
// go test ./cmd/shardgate -run TestTwoPCCrashScenarios -rewrite.
//
// Commands:
//
//	setup               fresh accounts table, one account on each of 3 shards, balance 100
//	gateway crash-after=POINT   start the coordinating gateway process
//	transfer            BEGIN; move 30 from account 1 to the others; COMMIT
//	wait-exit           wait for the gateway process to die
//	state               balances and prepared branches, read on the shards; decision records
//	shardctl ARGS...    run shardctl (dtids and addresses masked; $DTID is the
//	                    first unresolved transaction)
//	recover             start a fresh gateway process and wait for its resolver
//	check               all-committed, all-rolled-back, or a failure
func TestTwoPCCrashScenarios(t *testing.T) {
	h := newTwoPCHarness(t)
	files, err := filepath.Glob("testdata/twopc/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			s := &scenario{h: h}
			datadriven.RunTest(t, file, func(t *testing.T, d *datadriven.TestData) string {
				return s.run(t, d)
			})
		})
	}
}

type scenario struct {
	h   *twopcHarness
	ids []int64 // accounts, one per shard, in the order the transfer touches them
	gw  *gatewayProc
}

func (s *scenario) run(t *testing.T, d *datadriven.TestData) string {
	h := s.h
	switch d.Cmd {
	case "setup":
		// Leftovers of a failed scenario would hold locks.
		if _, err := twopc.Resolve(context.Background(), h.resolveConfig(), "", true); err != nil {
			t.Fatal(err)
		}
		g := h.startGateway("", "", "--twopc-resolver=false")
		defer g.kill()
		db := g.db(t, "")
		s.ids = nil
		seen := map[string]bool{}
		for id := int64(1); len(s.ids) < 3; id++ {
			if sh := h.shardOfID(id); !seen[sh] {
				seen[sh] = true
				s.ids = append(s.ids, id)
			}
		}
		for _, q := range []string{"drop table if exists accounts", "create table accounts (id bigint primary key, balance int not null)"} {
			if _, err := db.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		var b strings.Builder
		for _, id := range s.ids {
			if _, err := db.Exec("insert into accounts (id, balance) values (?, 100)", id); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "account %d on shard %s: 100\n", id, h.shardOfID(id))
		}
		return b.String()
	case "gateway":
		var point string
		d.ScanArgs(t, "crash-after", &point)
		s.gw = h.startGateway("", point)
		return "gateway serving; it kills itself " + point + "\n"
	case "transfer":
		db := s.gw.db(t, "")
		db.SetMaxOpenConns(1)
		c, err := db.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		a, b2, c3 := s.ids[0], s.ids[1], s.ids[2]
		stmts := []string{
			"begin",
			fmt.Sprintf("update accounts set balance = balance - 30 where id = %d", a),
			fmt.Sprintf("update accounts set balance = balance + 10 where id = %d", b2),
			fmt.Sprintf("update accounts set balance = balance + 20 where id = %d", c3),
			"commit",
		}
		var out strings.Builder
		for _, q := range stmts {
			_, err := c.ExecContext(context.Background(), q)
			fmt.Fprintf(&out, "%s: %s\n", q, resultWord(err))
			if err != nil {
				break
			}
		}
		return out.String()
	case "wait-exit":
		err := s.gw.waitExit(20 * time.Second)
		return fmt.Sprintf("gateway exited: %v\n", err)
	case "state":
		var out strings.Builder
		prep := h.prepared()
		for _, id := range s.ids {
			sh := h.shardOfID(id)
			var bal int
			if err := h.shardDB(sh).QueryRow("select balance from accounts where id = ?", id).Scan(&bal); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&out, "account %d on shard %s: %d; prepared branches on the shard: %d\n", id, sh, bal, prep[sh])
		}
		txs, err := twopc.Inspect(context.Background(), h.resolveConfig())
		if err != nil {
			t.Fatal(err)
		}
		for _, tx := range txs {
			dec := "none"
			if tx.Record != nil {
				dec = string(tx.Record.State) + " by " + tx.Record.By
			}
			fmt.Fprintf(&out, "unresolved transaction: decision %s, %d prepared branches\n", dec, len(tx.Branches))
		}
		if len(txs) == 0 {
			out.WriteString("no unresolved transaction\n")
		}
		return out.String()
	case "shardctl":
		var args []string
		for _, a := range d.CmdArgs {
			arg := a.String()
			if arg == "$DTID" {
				// The first unresolved transaction's id.
				txs, err := twopc.Inspect(context.Background(), h.resolveConfig())
				if err != nil || len(txs) == 0 {
					t.Fatalf("no unresolved transaction for $DTID (%v)", err)
				}
				arg = txs[0].DTID
			}
			args = append(args, arg)
		}
		return h.shardctlRun(args...)
	case "recover":
		g := h.startGateway("", "")
		defer g.kill()
		if err := h.waitResolved(30 * time.Second); err != nil {
			t.Fatalf("%v\n%s", err, g.stderr())
		}
		return "a new gateway's resolver finished every prepared branch\n"
	case "check":
		total, moved := 0, 0
		want := []int{70, 110, 120}
		for i, id := range s.ids {
			var bal int
			if err := h.shardDB(h.shardOfID(id)).QueryRow("select balance from accounts where id = ?", id).Scan(&bal); err != nil {
				t.Fatal(err)
			}
			total += bal
			if bal == want[i] {
				moved++
			} else if bal != 100 {
				t.Errorf("account %d: balance %d, neither 100 nor %d", id, bal, want[i])
			}
		}
		prep := h.prepared()
		for _, sh := range sortedKeys(prep) {
			if prep[sh] != 0 {
				t.Errorf("shard %s: %d prepared branches left", sh, prep[sh])
			}
		}
		switch moved {
		case 0:
			return fmt.Sprintf("all rolled back; total %d; XA RECOVER empty on every shard\n", total)
		case len(s.ids):
			return fmt.Sprintf("all committed; total %d; XA RECOVER empty on every shard\n", total)
		}
		t.Errorf("transfer half-applied: %d of %d accounts moved", moved, len(s.ids))
		return "MIXED\n"
	}
	t.Fatalf("unknown command %q", d.Cmd)
	return ""
}

// resultWord describes a statement's outcome for a trace.
func resultWord(err error) string {
	if err == nil {
		return "ok"
	}
	if err == sql.ErrConnDone || strings.Contains(err.Error(), "bad connection") || strings.Contains(err.Error(), "invalid connection") || strings.Contains(err.Error(), "EOF") || strings.Contains(err.Error(), "connection reset") {
		return "connection lost"
	}
	return "error: " + err.Error()
}
