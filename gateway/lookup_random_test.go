package gateway_test

import (
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// testLookupRandom runs random writes on lk_cust through the gateway and,
// as written, on global.lk_ref, a copy whose email and phone columns have
// unique keys (what lookup_unique and consistent_lookup_unique stand for):
// every statement must succeed or fail with the same error number on
// both, the two tables must hold the same rows, and the lookup rows must
// match their owners, checked on the shards directly.
func testLookupRandom(t *testing.T, svc, global *sql.DB) {
	mustExec(t, svc, "delete from lk_cust")
	mustExec(t, global, "create table lk_ref (id bigint not null, email varchar(64), name varchar(64), phone varchar(32), city varchar(32), primary key (id), unique key (email), unique key (phone))")
	assertLookupsMatchOwners(t)
	for _, seed := range []uint64{1, 2, 3} {
		rng := rand.New(rand.NewPCG(seed, 0))
		email := func() string { return fmt.Sprintf("r%d@x.com", rng.IntN(30)) }
		name := func() string { return fmt.Sprintf("n%d", rng.IntN(5)) }
		phone := func() any {
			if rng.IntN(5) == 0 {
				return nil
			}
			return fmt.Sprintf("555-%03d", rng.IntN(30))
		}
		id := func() int { return 1 + rng.IntN(40) }
		type op struct {
			q    string
			args []any
		}
		next := func() op {
			switch rng.IntN(9) {
			case 0, 1:
				return op{"insert into %s (id, email, name, phone) values (?, ?, ?, ?)", []any{id(), email(), name(), phone()}}
			case 2:
				return op{"insert into %s (id, email, name, phone) values (?, ?, ?, ?), (?, ?, ?, ?)", []any{id(), email(), name(), phone(), id(), email(), name(), phone()}}
			case 3:
				return op{"update %s set email = ? where id = ?", []any{email(), id()}}
			case 4:
				return op{"update %s set name = ?, phone = ? where name = ?", []any{name(), phone(), name()}}
			case 5:
				return op{"update %s set id = ? where email = ?", []any{id(), email()}}
			case 6:
				return op{"delete from %s where email = ?", []any{email()}}
			case 7:
				return op{"delete from %s where id in (?, ?)", []any{id(), id()}}
			default:
				return op{"update %s set city = ? where phone = ?", []any{name(), phone()}}
			}
		}
		for i := 0; i < 150; i++ {
			o := next()
			if rng.IntN(6) == 0 {
				// Two statements in a transaction, committed or rolled back.
				o2 := next()
				commit := rng.IntN(2) == 0
				gotErr := inTx(svc, fmt.Sprintf(o.q, "lk_cust"), o.args, fmt.Sprintf(o2.q, "lk_cust"), o2.args, commit)
				wantErr := inTx(global, fmt.Sprintf(o.q, "lk_ref"), o.args, fmt.Sprintf(o2.q, "lk_ref"), o2.args, commit)
				if errNumber(gotErr) != errNumber(wantErr) {
					t.Fatalf("seed %d op %d: transaction %q %v; %q %v (commit %v): got %v, want %v", seed, i, o.q, o.args, o2.q, o2.args, commit, gotErr, wantErr)
				}
				continue
			}
			_, gotErr := svc.Exec(fmt.Sprintf(o.q, "lk_cust"), o.args...)
			_, wantErr := global.Exec(fmt.Sprintf(o.q, "lk_ref"), o.args...)
			if errNumber(gotErr) != errNumber(wantErr) {
				t.Fatalf("seed %d op %d: %q %v: got %v, want %v (one MariaDB)", seed, i, o.q, o.args, gotErr, wantErr)
			}
			if i%30 == 29 {
				compareTables(t, svc, global, fmt.Sprintf("seed %d op %d", seed, i))
				assertLookupsMatchOwners(t)
				for _, q := range []struct {
					q    string
					args []any
				}{
					{"select id, name from %s where email = ?", []any{email()}},
					{"select id from %s where email in (?, ?, ?) order by id", []any{email(), email(), email()}},
					{"select id, phone from %s where name = ? order by id", []any{name()}},
					{"select count(*) from %s where phone = ?", []any{phone()}},
				} {
					got := queryStrings(t, svc, fmt.Sprintf(q.q, "lk_cust"), q.args...)
					want := queryStrings(t, global, fmt.Sprintf(q.q, "lk_ref"), q.args...)
					if fmt.Sprint(got) != fmt.Sprint(want) {
						t.Fatalf("seed %d op %d: %q %v: got %v, want %v (one MariaDB)", seed, i, q.q, q.args, got, want)
					}
				}
			}
		}
		compareTables(t, svc, global, fmt.Sprintf("seed %d end", seed))
		assertLookupsMatchOwners(t)
	}
}

// inTx runs two statements in a transaction, then commits or rolls back;
// the first error wins (the transaction is then rolled back).
func inTx(db *sql.DB, q1 string, a1 []any, q2 string, a2 []any, commit bool) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	for _, s := range []struct {
		q    string
		args []any
	}{{q1, a1}, {q2, a2}} {
		if _, err := tx.Exec(s.q, s.args...); err != nil {
			tx.Rollback()
			return err
		}
	}
	if commit {
		return tx.Commit()
	}
	return tx.Rollback()
}

func errNumber(err error) uint16 {
	if err == nil {
		return 0
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 1
}

func compareTables(t *testing.T, svc, global *sql.DB, when string) {
	t.Helper()
	q := "select id, email, name, phone, city from %s order by id"
	got := queryStrings(t, svc, fmt.Sprintf(q, "lk_cust"))
	want := queryStrings(t, global, fmt.Sprintf(q, "lk_ref"))
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s: rows differ:\ngot  %v\nwant %v", when, strings.Join(fmtRows(got), " "), strings.Join(fmtRows(want), " "))
	}
}

func fmtRows(rows [][]string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = "(" + strings.Join(r, ",") + ")"
	}
	return out
}
