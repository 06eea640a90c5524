package tablet_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/tablet/tablettest"
)

// binTypesTable has a column of every type whose binary encoding differs
// from its text (integers of every width, signed, unsigned and ZEROFILL;
// FLOAT and DOUBLE with and without a scale; dates and times with and
// without fractions; YEAR) and of the string-like ones sent alike.
const binTypesTable = `CREATE TABLE app.bt (
	id INT PRIMARY KEY,
	ti TINYINT, tiu TINYINT UNSIGNED, tiz TINYINT(3) UNSIGNED ZEROFILL,
	si SMALLINT, siu SMALLINT UNSIGNED, siz SMALLINT(7) ZEROFILL,
	mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED, iz INT(11) ZEROFILL,
	bi BIGINT, biu BIGINT UNSIGNED, biz BIGINT(25) ZEROFILL,
	f FLOAT, f73 FLOAT(7,3), d DOUBLE, d102 DOUBLE(10,2), dc DECIMAL(65,30), b BIT(10),
	dt DATE, dtm DATETIME, dtm3 DATETIME(3), dtm6 DATETIME(6), ts TIMESTAMP NULL DEFAULT NULL, ts6 TIMESTAMP(6) NULL DEFAULT NULL,
	tm TIME, tm1 TIME(1), tm6 TIME(6), y YEAR,
	c CHAR(10), vc VARCHAR(100), bn BINARY(4), bl BLOB, e ENUM('a','b'), st SET('x','y'), j JSON
)`

var binTypesRows = []string{
	`(1, -128, 0, 0, -32768, 0, 0, -8388608, 0, -2147483648, 0, 0, -9223372036854775808, 0, 0,
	  -3.40282e38, -9999.999, -1.7976931348623157e308, -99999999.99, '-99999999999999999999999999999999999.999999999999999999999999999999', b'0',
	  '1000-01-01', '1000-01-01 00:00:00', '1000-01-01 00:00:00.000', '1000-01-01 00:00:00.000000', '1970-01-01 00:00:01', '1970-01-01 00:00:01.000000',
	  '-838:59:59', '-838:59:59.0', '-838:59:59.000000', 1901,
	  '', '', x'00000000', x'', 'a', '', '[]')`,
	`(2, 127, 255, 255, 32767, 65535, 65535, 8388607, 16777215, 2147483647, 4294967295, 4294967295, 9223372036854775807, 18446744073709551615, 18446744073709551615,
	  3.40282e38, 9999.999, 1.7976931348623157e308, 99999999.99, '99999999999999999999999999999999999.999999999999999999999999999999', b'1111111111',
	  '9999-12-31', '9999-12-31 23:59:59', '9999-12-31 23:59:59.999', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07', '2038-01-19 03:14:07.999999',
	  '838:59:59', '838:59:59.9', '838:59:59.999999', 2155,
	  'zzzzzzzzzz', repeat('😀', 100), x'ffffffff', x'00ff', 'b', 'x,y', '{"a": [1, 2.5, null]}')`,
	`(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	  NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
	// Values whose FLOAT needs 7 or more significant digits; zero dates
	// and times (the shortest binary forms); days in a TIME.
	`(4, 0, 1, 7, 0, 1, 42, 0, 1, 0, 1, 5, 0, 1, 12345,
	  3.1415927, 3.1415927, 0.1, 0.1, '0.000000000000000000000000000001', b'101',
	  '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00.000', '0000-00-00 00:00:00.000000', '0000-00-00 00:00:00', '0000-00-00 00:00:00.000000',
	  '00:00:00', '-00:00:00.5', '00:00:00.000001', 0,
	  'a', 'b', x'01', x'00', 'a', 'x', 'null')`,
	`(5, -1, 100, 1, -1, 100, 1, -1, 100, -1, 100, 1, -1, 9223372036854775808, 1,
	  16777217, 1.5, 2.718281828459045, 2.5, '-1.5', b'1',
	  '2024-02-29', '2024-02-29 12:34:56', '2024-02-29 12:34:56.001', '2024-02-29 12:34:56.000001', '2024-02-29 12:34:56', '2024-02-29 12:34:56.500000',
	  '34:05:06', '-34:05:06.5', '-100:00:00.000100', 2000,
	  ' lead', 'trail ', x'0a0d0900', x'5c27', 'b', 'y', '"s"')`,
	`(6, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	  1.1754944e-38, -0.001, 1e-300, -0.01, '0', b'1111111111',
	  '2001-02-03', '2001-02-03 04:05:06', '2001-02-03 00:00:00.100', '2001-02-03 00:00:00.000000', '2001-02-03 04:05:06', '2001-02-03 04:05:06.000001',
	  '-00:00:01', '00:00:00.1', '-838:59:58.999999', 1999,
	  'é', 'ü', x'ff', x'fe', 'a', 'x,y', '123')`,
	`(7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	  -0.0, 0, -0.0, 0, '0', b'0',
	  '2000-01-01', '2000-01-01 00:00:00', '2000-01-01 00:00:00.000', '2000-01-01 00:00:00.000000', '2000-01-01 00:00:00', '2000-01-01 00:00:00.000000',
	  '12:00:00', '12:00:00.0', '12:00:00.000000', 2024,
	  'x', 'y', x'01', x'02', 'b', 'y', '{}')`,
}

// TestStreamBinary reads rows of every type with Stream (text protocol)
// and StreamBinary (prepared-statement protocol) and compares them: the
// column definitions and every value are the same bytes, except FLOAT,
// which StreamBinary gives exactly (it parses back to the float32 that
// MariaDB's own binary protocol sends, read here with go-mysql's client)
// where the text protocol rounds it to 6 digits.
func TestStreamBinary(t *testing.T) {
	m := tablettest.StartMysqld(t)
	cfg := m.ConnConfig()
	setup := mustDial(t, tablet.Dial, cfg)
	mustExec(t, setup, "CREATE DATABASE app")
	mustExec(t, setup, "SET time_zone = '+00:00'")
	mustExec(t, setup, binTypesTable)
	for _, row := range binTypesRows {
		mustExec(t, setup, "INSERT INTO app.bt VALUES "+row)
	}
	mustExec(t, setup, "CREATE TABLE app.dbl (id INT PRIMARY KEY, d DOUBLE, f FLOAT)")
	var values []string
	for i, x := range doubleCases() {
		f := float32(x)
		if math.IsInf(float64(f), 0) {
			f = math.Float32frombits(uint32(math.Float64bits(x)) &^ (1 << 30)) // a finite one
		}
		values = append(values, fmt.Sprintf("(%d, %s, %s)", i, strconv.FormatFloat(x, 'g', -1, 64), strconv.FormatFloat(float64(f), 'g', -1, 32)))
	}
	mustExec(t, setup, "INSERT INTO app.dbl VALUES "+strings.Join(values, ","))

	exact := rawClient(t, cfg)
	queries := []string{
		"SELECT * FROM app.bt ORDER BY id",
		"SELECT * FROM app.dbl ORDER BY id",
		// Computed columns: their types, scales and flags come from the
		// expression, not a table.
		"SELECT 1e0/3, -1e0/3, 1e20*10, 1/3, NULL, now(6) > '2000-01-01', cast('12:34:56.5' as time(1)), " +
			"cast('2020-01-02 03:04:05.123' as datetime(3)), sec_to_time(-90061), x'00ff', '😀', " +
			"cast(3.1415927 as float), cast(-1 as unsigned), -9223372036854775808 - 0, year(now()) > 2000, " +
			"avg(f), max(f), min(tm6), max(dtm6), sum(d102), max(y) FROM app.bt",
	}
	for _, d := range dialers {
		t.Run(d.name, func(t *testing.T) {
			c := mustDial(t, d.dial, cfg)
			mustExec(t, c, "SET time_zone = '+00:00'")
			for _, q := range queries {
				textFields, textRows := streamAll(t, c, q, false)
				binFields, binRows := streamAll(t, c, q, true)
				// Buffered, the same values (copied out of the buffers
				// streaming reuses; '' stays apart from NULL).
				buffered, err := c.ExecuteBinary(context.Background(), q)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := fmt.Sprintf("%q", buffered.Rows), fmt.Sprintf("%q", binRows); got != want {
					t.Errorf("%s: ExecuteBinary rows differ from StreamBinary's:\n got %s\nwant %s", q, got, want)
				}
				for r, row := range buffered.Rows {
					for i, v := range row {
						if (v == nil) != (binRows[r][i] == nil) {
							t.Errorf("%s: row %d column %d: ExecuteBinary %s, StreamBinary %s", q, r, i, show(v), show(binRows[r][i]))
						}
					}
				}
				want := exactRows(t, exact, q)
				if len(binFields) != len(textFields) || len(binRows) != len(textRows) || len(binRows) != len(want) {
					t.Fatalf("%s: binary %d columns %d rows, text %d columns %d rows, go-mysql %d rows",
						q, len(binFields), len(binRows), len(textFields), len(textRows), len(want))
				}
				for i := range textFields {
					if !bytes.Equal(binFields[i].Data, textFields[i].Data) {
						t.Errorf("%s: column %d definition: binary %x, text %x", q, i, binFields[i].Data, textFields[i].Data)
					}
				}
				for r := range textRows {
					for i, f := range textFields {
						got, text := binRows[r][i], textRows[r][i]
						if f.Type != mysql.MYSQL_TYPE_FLOAT {
							if !bytes.Equal(got, text) || (got == nil) != (text == nil) {
								t.Errorf("%s: row %d column %s (type %d): binary %s, text %s", q, r, f.Name, f.Type, show(got), show(text))
							}
							continue
						}
						if (got == nil) != (text == nil) {
							t.Errorf("%s: row %d column %s: binary %s, text %s", q, r, f.Name, show(got), show(text))
							continue
						}
						if got == nil {
							continue
						}
						x, err := strconv.ParseFloat(string(got), 32)
						w := want[r][i].AsFloat64()
						if err != nil || math.Float32bits(float32(x)) != math.Float32bits(float32(w)) {
							t.Errorf("%s: row %d FLOAT column %s: got %s, want the bits of %v (text protocol: %s)", q, r, f.Name, got, float32(w), text)
						}
					}
				}
			}
			// Still in step: a text statement after the binary ones.
			if got := rowStrings(mustExec(t, c, "SELECT 'next'").Rows); len(got) != 1 || got[0][0] != "next" {
				t.Fatalf("after StreamBinary: got %v", got)
			}
		})
	}
}

// doubleCases are DOUBLEs on both sides of every boundary of MariaDB's
// choice between fixed and exponent notation, and random ones over the
// whole range.
func doubleCases() []float64 {
	xs := []float64{0, 1, -1, 0.1, 1.0 / 3, 100, 123456789012345678, 1234567890123456.7, 12345678901234567890,
		1e14, 1e15, 1e16, 1e21, 1.5e15, 1e-4, 1e-5, 1e-14, 1e-15, 1e-16, 1.25e-15, 1.5e-7,
		math.MaxFloat64, math.SmallestNonzeroFloat64, 2.2250738585072014e-308, 16777217, 3.1415927}
	rng := rand.New(rand.NewPCG(7, 7))
	for range 300 {
		x := math.Float64frombits(rng.Uint64())
		if math.IsNaN(x) || math.IsInf(x, 0) {
			continue
		}
		xs = append(xs, x)
	}
	for e := -20; e <= 20; e++ {
		xs = append(xs, rng.Float64()*math.Pow(10, float64(e)), -math.Pow(10, float64(e)))
	}
	return xs
}

func streamAll(t *testing.T, c *tablet.Conn, q string, binary bool) ([]*mysql.Field, [][][]byte) {
	t.Helper()
	var fields []*mysql.Field
	var rows [][][]byte
	onFields := func(f []*mysql.Field) error { fields = f; return nil }
	onRow := func(row [][]byte) error {
		out := make([][]byte, len(row))
		for i, v := range row {
			if v != nil {
				out[i] = append([]byte{}, v...)
			}
		}
		rows = append(rows, out)
		return nil
	}
	stream := c.Stream
	if binary {
		stream = c.StreamBinary
	}
	if _, err := stream(context.Background(), q, onFields, onRow); err != nil {
		t.Fatalf("%s (binary %v): %v", q, binary, err)
	}
	return fields, rows
}

// rawClient is a go-mysql client connection: an independent reader of
// the binary protocol.
func rawClient(t *testing.T, cfg tablet.ConnConfig) *client.Conn {
	t.Helper()
	c, err := client.Connect(cfg.Addr, cfg.User, cfg.Password, "", func(c *client.Conn) error {
		return c.SetCollation("utf8mb4_general_ci")
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if _, err := c.Execute("SET time_zone = '+00:00'"); err != nil {
		t.Fatal(err)
	}
	return c
}

// exactRows runs q as a prepared statement with go-mysql's client.
func exactRows(t *testing.T, c *client.Conn, q string) [][]mysql.FieldValue {
	t.Helper()
	st, err := c.Prepare(q)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	res, err := st.Execute()
	if err != nil {
		t.Fatal(err)
	}
	return res.Values
}

func show(v []byte) string {
	if v == nil {
		return "NULL"
	}
	return strconv.Quote(string(v))
}

// TestStreamBinaryErrors: a statement the server refuses to prepare
// reports the text protocol's error and leaves the connection usable; one
// with parameter markers, or one MariaDB cannot prepare, runs as text.
func TestStreamBinaryErrors(t *testing.T) {
	m := tablettest.StartMysqld(t)
	c := mustDial(t, tablet.Dial, m.ConnConfig())
	ctx := context.Background()
	if _, err := c.StreamBinary(ctx, "SELECT nope FROM mysql.user", nil, nil); !isCode(err, mysql.ER_BAD_FIELD_ERROR) || c.IsBroken() {
		t.Fatalf("bad column: got %v (broken %v), want 1054 and a usable connection", err, c.IsBroken())
	}
	if _, err := c.StreamBinary(ctx, "SELECT ?", nil, nil); !isCode(err, mysql.ER_PARSE_ERROR) || c.IsBroken() {
		t.Fatalf("a parameter marker: got %v (broken %v), want the text protocol's 1064", err, c.IsBroken())
	}
	var got []string
	if _, err := c.StreamBinary(ctx, "SELECT 1 UNION ALL SELECT 2", nil, func(row [][]byte) error {
		got = append(got, string(row[0]))
		return nil
	}); err != nil || strings.Join(got, ",") != "1,2" {
		t.Fatalf("union: got %v, %v; want 1,2", got, err)
	}
	// An error while the rows are sent (the execution's, not the
	// prepare's) also ends the statement cleanly.
	if _, err := c.StreamBinary(ctx, "SELECT 1 FROM (SELECT 1 UNION SELECT 2) t WHERE (SELECT 1 UNION SELECT 2) > 0", nil, nil); !isCode(err, mysql.ER_SUBQUERY_NO_1_ROW) || c.IsBroken() {
		t.Fatalf("subquery returning 2 rows: got %v (broken %v), want 1242 and a usable connection", err, c.IsBroken())
	}
	if got := rowStrings(mustExec(t, c, "SELECT 'usable'").Rows); len(got) != 1 {
		t.Fatalf("after the errors: got %v", got)
	}
	// A callback that gives up leaves the result half read: the
	// connection is closed, as with Stream.
	stop := errors.New("enough")
	if _, err := c.StreamBinary(ctx, "SELECT seq FROM mysql.seq_1_to_100000", nil, func([][]byte) error { return stop }); !errors.Is(err, stop) || !c.IsBroken() {
		t.Fatalf("callback error: got %v (broken %v), want the callback's error and a broken connection", err, c.IsBroken())
	}
}
