package gateway_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/shardgate/shardgate/gateway"
)

// TestWindowOverAScatterNumbersEveryShardsRows: a window over the whole
// table is computed at the gateway over the rows of all shards (each
// shard alone would number its own rows from 1), and one over more rows
// than the gateway may buffer fails with 1041 naming the window input.
func TestWindowOverAScatterNumbersEveryShardsRows(t *testing.T) {
	db := shared.db(t, "service", "")
	mustExec(t, db, "drop table if exists win_rows")
	mustExec(t, db, "create table win_rows (id bigint not null, grp int, v decimal(6,2), primary key (id))")
	t.Cleanup(func() { mustExec(t, db, "drop table if exists win_rows") })
	var tuples []string
	for id := 1; id <= 40; id++ {
		tuples = append(tuples, fmt.Sprintf("(%d, %d, %d.25)", id, id%3, id))
	}
	mustExec(t, db, "insert into win_rows (id, grp, v) values "+strings.Join(tuples, ", "))

	// The rows really are spread: no shard holds them all.
	total := 0
	for _, shard := range []string{"-40", "40-80", "80-c0", "c0-"} {
		n, _ := strconv.Atoi(queryStrings(t, shared.shardDB(t, "service", shard), "select count(*) from win_rows")[0][0])
		if n == 40 {
			t.Fatalf("shard %s holds every row: the test needs a scatter", shard)
		}
		total += n
	}
	if total != 40 {
		t.Fatalf("shards hold %d rows, want 40", total)
	}

	got := queryStrings(t, db, "select id, row_number() over (order by v desc) as rn, sum(v) over (partition by grp order by id) as s, avg(v) over w as a from win_rows window w as (partition by grp) order by id")
	if len(got) != 40 {
		t.Fatalf("got %d rows, want 40", len(got))
	}
	for i, row := range got {
		id := i + 1
		running := 0.0
		for j := id % 3; j <= id; j += 3 {
			if j > 0 {
				running += float64(j) + 0.25
			}
		}
		var sum, n float64
		for j := 1; j <= 40; j++ {
			if j%3 == id%3 {
				sum += float64(j) + 0.25
				n++
			}
		}
		want := []string{strconv.Itoa(id), strconv.Itoa(41 - id), fmt.Sprintf("%.2f", running), fmt.Sprintf("%.6f", sum/n)}
		if strings.Join(row, " ") != strings.Join(want, " ") {
			t.Errorf("row %d: got %v, want %v", id, row, want)
		}
	}

	small := smallBudgetDB(t, 20)
	if _, err := small.Query("select id, rank() over (order by v) from win_rows"); err == nil {
		t.Fatal("a window over 40 rows with a budget of 20: got no error, want 1041")
	} else {
		var me *mysql.MySQLError
		if !errors.As(err, &me) || me.Number != 1041 || !strings.Contains(me.Message, "input of the window functions is too large") {
			t.Fatalf("got %v, want 1041 saying the window input is too large", err)
		}
	}
	if rows := queryStrings(t, small, "select id, rank() over (order by v desc) from win_rows where id <= 10 order by id"); len(rows) != 10 || rows[0][1] != "10" {
		t.Errorf("a window over 10 rows with a budget of 20: got %v, want 10 rows, the first ranked 10", rows)
	}
}

// smallBudgetDB is a second gateway on the shared cluster that buffers at
// most maxRows rows per statement.
func smallBudgetDB(t *testing.T, maxRows int) *sql.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	env := shared.Get(t)
	app := env.Cluster.AppConn()
	gw, err := gateway.New(gateway.Config{ListenAddr: "127.0.0.1:0", Topo: env.Cluster.Store, MaxBufferedRows: maxRows,
		Backend: gateway.BackendConfig{User: app.User, Password: app.Password}})
	if err == nil {
		err = gw.Start(ctx)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gw.Close)
	db, err := sql.Open("mysql", fmt.Sprintf("root@tcp(%s)/service", gw.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
