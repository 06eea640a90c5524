package tablet_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/tablet/tablettest"
)

// Benchmarks of the gateway's hot path against one local mariadbd. Each
// compares with go-mysql's own client in the same run: read the ratios, not
// the absolute numbers (mariadbd shares the machine's cores).

const benchRows = 100000

// benchMysqld starts an instance with app.t holding benchRows rows of
// (id, 100 bytes, int).
func benchMysqld(b *testing.B) *tablet.Mysqld {
	m := tablettest.StartMysqld(b)
	c := mustDial(b, tablet.Dial, m.ConnConfig())
	mustExec(b, c, "SET SESSION max_recursive_iterations = 1000000")
	mustExec(b, c, "CREATE DATABASE app")
	mustExec(b, c, "CREATE TABLE app.t (id INT PRIMARY KEY, s VARCHAR(100), n INT)")
	mustExec(b, c, fmt.Sprintf("INSERT INTO app.t WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %d) "+
		"SELECT i, REPEAT('x', 100), i FROM s", benchRows))
	return m
}

func BenchmarkExecutePointSelect(b *testing.B) {
	m := benchMysqld(b)
	cfg := m.ConnConfig()
	const q = "SELECT id, s, n FROM app.t WHERE id = 4242"

	b.Run("Conn", func(b *testing.B) {
		c := mustDial(b, tablet.Dial, cfg)
		b.ReportAllocs()
		for b.Loop() {
			r, err := c.Execute(context.Background(), q)
			if err != nil || len(r.Rows) != 1 {
				b.Fatal(r, err)
			}
		}
	})
	b.Run("Conn/ctx_with_deadline", func(b *testing.B) {
		c := mustDial(b, tablet.Dial, cfg)
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		b.ReportAllocs()
		for b.Loop() {
			r, err := c.Execute(ctx, q)
			if err != nil || len(r.Rows) != 1 {
				b.Fatal(r, err)
			}
		}
	})
	// The text protocol and the prepared-statement protocol (an extra
	// round trip: the prepare) that the gateway uses for FLOAT results.
	for _, binary := range []bool{false, true} {
		b.Run(fmt.Sprintf("Conn/stream/binary=%v", binary), func(b *testing.B) {
			c := mustDial(b, tablet.Dial, cfg)
			stream := c.Stream
			if binary {
				stream = c.StreamBinary
			}
			rows := 0
			b.ReportAllocs()
			for b.Loop() {
				if _, err := stream(context.Background(), q, nil, func([][]byte) error { rows++; return nil }); err != nil {
					b.Fatal(err)
				}
			}
			if rows != b.N {
				b.Fatalf("%d rows, want %d", rows, b.N)
			}
		})
	}
	b.Run("Pool", func(b *testing.B) {
		p := tablet.NewPool(tablet.PoolConfig{Conn: cfg, Size: 4})
		defer p.Close()
		b.ReportAllocs()
		for b.Loop() {
			r, err := p.Execute(context.Background(), q)
			if err != nil || len(r.Rows) != 1 {
				b.Fatal(r, err)
			}
		}
	})
	b.Run("go-mysql", func(b *testing.B) {
		c, err := client.Connect(cfg.Addr, cfg.User, cfg.Password, "", func(c *client.Conn) error {
			return c.SetCollation("utf8mb4_general_ci")
		})
		if err != nil {
			b.Fatal(err)
		}
		defer func() { _ = c.Close() }()
		b.ReportAllocs()
		for b.Loop() {
			r, err := c.Execute(q)
			if err != nil || r.RowNumber() != 1 {
				b.Fatal(r, err)
			}
		}
	})
}

// BenchmarkStreamRow: one op is one row streamed (of 3 columns, ~110
// bytes), out of results of up to benchRows rows.
func BenchmarkStreamRow(b *testing.B) {
	m := benchMysqld(b)
	cfg := m.ConnConfig()

	b.Run("Conn", func(b *testing.B) { benchStreamRows(b, cfg, false) })
	// Binary rows turned into text values (StreamBinary).
	b.Run("Conn/binary", func(b *testing.B) { benchStreamRows(b, cfg, true) })
	b.Run("go-mysql", func(b *testing.B) {
		c, err := client.Connect(cfg.Addr, cfg.User, cfg.Password, "", func(c *client.Conn) error {
			return c.SetCollation("utf8mb4_general_ci")
		})
		if err != nil {
			b.Fatal(err)
		}
		defer func() { _ = c.Close() }()
		b.ReportAllocs()
		sum := 0
		var r mysql.Result
		for left := b.N; left > 0; left -= benchRows {
			err := c.ExecuteSelectStreaming(fmt.Sprintf("SELECT id, s, n FROM app.t LIMIT %d", min(left, benchRows)), &r,
				func(row []mysql.FieldValue) error {
					sum += len(row[1].AsString())
					return nil
				}, nil)
			if err != nil {
				b.Fatal(err)
			}
		}
		if sum != 100*b.N {
			b.Fatalf("streamed %d bytes, want %d", sum, 100*b.N)
		}
	})
}

// benchStreamRows streams b.N rows in results of up to benchRows rows,
// with Stream or StreamBinary.
func benchStreamRows(b *testing.B, cfg tablet.ConnConfig, binary bool) {
	c := mustDial(b, tablet.Dial, cfg)
	stream := c.Stream
	if binary {
		stream = c.StreamBinary
	}
	b.ReportAllocs()
	sum := 0
	for left := b.N; left > 0; left -= benchRows {
		_, err := stream(context.Background(),
			fmt.Sprintf("SELECT id, s, n FROM app.t LIMIT %d", min(left, benchRows)), nil,
			func(row [][]byte) error {
				sum += len(row[1])
				return nil
			})
		if err != nil {
			b.Fatal(err)
		}
	}
	if sum != 100*b.N {
		b.Fatalf("streamed %d bytes, want %d", sum, 100*b.N)
	}
}
