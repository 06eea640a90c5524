package compat_test

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
)

// typesTable has a column of every MySQL type the issue lists.
const typesTable = `create table types_t (
	id bigint primary key,
	ti tinyint, tiu tinyint unsigned, si smallint, siu smallint unsigned,
	mi mediumint, miu mediumint unsigned, i int, iu int unsigned,
	bi bigint, biu bigint unsigned,
	dc decimal(65,30), f float, d double, b bit(10),
	dt date, dtm datetime(6), ts timestamp null default null, tm time, tm6 time(6), y year,
	c char(10), vc varchar(100), tx text,
	bn binary(4), vb varbinary(10), bl blob,
	e enum('a','b','c'), st set('x','y','z'), j json
)`

const typesColumns = "id, ti, tiu, si, siu, mi, miu, i, iu, bi, biu, dc, f, d, b, dt, dtm, ts, tm, tm6, y, c, vc, tx, bn, vb, bl, e, st, j"

// typesRows: minimums, maximums, NULLs, zero-ish and ordinary values.
var typesRows = []string{
	`(1, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,
	  '-99999999999999999999999999999999999.999999999999999999999999999999', -3.40282e38, -1.7976931348623157e308, b'0',
	  '1000-01-01', '1000-01-01 00:00:00.000000', '1970-01-01 00:00:01', '-838:59:59', '-838:59:59.000000', 1901,
	  '', '', '', x'00000000', x'00', x'00', 'a', '', '[]')`,
	`(2, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615,
	  '99999999999999999999999999999999999.999999999999999999999999999999', 3.40282e38, 1.7976931348623157e308, b'1111111111',
	  '9999-12-31', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07', '838:59:59', '838:59:59.999999', 2155,
	  'zzzzzzzzzz', repeat('é', 100), repeat('😀', 1000), x'ffffffff', x'00ff00ff00', x'0001020300ff',
	  'c', 'x,y,z', '{"a": [1, 2.5, "😀", null, true], "b": {"c": "d"}}')`,
	`(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
	`(4, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, '0.000000000000000000000000000001', 0.1, 0.1, b'101',
	  '2024-02-29', '2024-02-29 12:34:56.000001', '2024-02-29 12:34:56', '00:00:00', '-00:00:01.5', 2024,
	  'ab😀', 'héllo 😀 wörld', 'text\0with zero', x'61000062', x'', x'00000000',
	  'b', 'y', '"just a string"')`,
	`(5, -1, 100, -1, 100, -1, 100, -1, 100, -1, 9223372036854775808, '-1.5', 1.2345678, 2.718281828459045, b'1',
	  '2000-01-01', '2000-01-01 00:00:00.500000', '2000-01-01 00:00:00', '12:00:00', '100:00:00.000100', 2000,
	  ' lead', 'trail ', 'back\\slash ''quote''', x'0a0d0900', x'5c27', '',
	  'a', 'x,z', '{"n": 18446744073709551615}')`,
	// Zero dates and times, the shortest binary forms, fractions alone.
	`(6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '0', 0, 0, b'1111111111',
	  '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '00:00:00', '00:00:00.000001', 0,
	  'x', 'y', 'z', x'01', x'02', x'03',
	  'c', 'x', 'null')`,
	`(7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, '-0.000000000000000000000000000001', -0.0, 1e-300, b'0000000001',
	  '2001-02-03', '2001-02-03 00:00:00.000000', '2001-02-03 04:05:06', '-00:00:00.5', '-838:59:58.999999', 1999,
	  'é', 'ü', 'ß', x'ff', x'fe', x'fd',
	  'b', 'z', '123')`,
}

// floatRows are FLOATs whose 7th significant digit matters (the text
// protocol shows 6): MariaDB's binary protocol sends the stored float32,
// and so must the gateway. -0e0 is a DOUBLE literal, so the sign stays.
const floatRows = `insert into types_t (id, f, d) values
	(8, 3.1415927, 3.1415927), (9, 16777217, 16777217), (10, 1.1754944e-38, 1.1754944e-38),
	(11, -0e0, -0e0), (12, -1.2345678e-30, 1e15), (13, 0.30000001, 0.30000000000000004)`

// floatRowCount is the number of rows floatRows inserts.
const floatRowCount = 6

// TestTypeFidelity reads a row of every type through the gateway and
// directly from the MariaDB shard that holds it, in the text protocol and
// the binary protocol (prepared statements), and compares the column
// definitions byte for byte and the row packets byte for byte: a driver
// sees exactly what it would see from MariaDB.
func TestTypeFidelity(t *testing.T) {
	for _, ks := range []string{unsharded, sharded} {
		t.Run(ks, func(t *testing.T) {
			db := shared.db(t, ks, "")
			mustExec(t, db, "drop table if exists types_t")
			mustExec(t, db, typesTable)
			for _, row := range typesRows {
				mustExec(t, db, "insert into types_t ("+typesColumns+") values "+row)
			}
			mustExec(t, db, floatRows)
			gw := rawConn(t, shared.Get(t).Gateway.Addr(), user, password, ks)
			var shards []*client.Conn
			for _, in := range shared.Get(t).Cluster.Instances {
				if in.Keyspace == ks {
					shards = append(shards, rawConn(t, in.Mysqld.Addr(), "root", "", ks))
				}
			}
			for id := 1; id <= len(typesRows)+floatRowCount; id++ {
				query := fmt.Sprintf("select * from types_t where id = %d", id)
				want := directResult(t, shards, query, nil)
				compareResults(t, "text "+query, gw, want, func(c *client.Conn) (*mysql.Result, error) { return c.Execute(query) })

				pquery := "select * from types_t where id = ?"
				want = directResult(t, shards, pquery, []any{id})
				compareResults(t, fmt.Sprintf("binary %s [%d]", pquery, id), gw, want, func(c *client.Conn) (*mysql.Result, error) {
					return prepareExecute(c, pquery, id)
				})
			}
			// go-sql-driver's view of the columns (what database/sql users
			// see), text and binary protocol.
			var shardName string
			for _, in := range shared.Get(t).Cluster.Instances {
				if in.Keyspace == ks {
					shardName = in.Shard
					break
				}
			}
			direct := shared.Get(t).ShardDB(t, ks, shardName, "")
			for _, args := range [][]any{nil, {0}} {
				q := "select * from types_t where id = 4"
				if args != nil {
					q = "select * from types_t where id > ?"
				}
				if got, want := columnTypes(t, db, q, args), columnTypes(t, direct, q, args); got != want {
					t.Errorf("%s: ColumnTypes through the gateway:\n%s\nwant:\n%s", q, got, want)
				}
			}
			// Expressions computed by the server, not read from a column.
			for _, expr := range []string{"1/3", "null", "now(6) > '2000-01-01'", "x'00ff'", "'😀'", "json_object('a', 1)", "cast('12:34:56.5' as time(1))", "-9223372036854775808 - 0",
				"cast(3.1415927 as float)", "f * 1", "ifnull(f, f)", "1e0/3", "sec_to_time(-90061.5)"} {
				query := "select " + expr + " as v from types_t where id = 8"
				want := directResult(t, shards, query, nil)
				compareResults(t, query, gw, want, func(c *client.Conn) (*mysql.Result, error) { return c.Execute(query) })

				pquery := "select " + expr + " as v from types_t where id = ?"
				want = directResult(t, shards, pquery, []any{8})
				compareResults(t, "binary "+pquery, gw, want, func(c *client.Conn) (*mysql.Result, error) { return prepareExecute(c, pquery, 8) })
			}
		})
	}
}

// prepareExecute runs a statement through COM_STMT_PREPARE/EXECUTE and
// checks that the prepare response announced the result's column count,
// as MariaDB does.
func prepareExecute(c *client.Conn, query string, args ...any) (*mysql.Result, error) {
	st, err := c.Prepare(query)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	res, err := st.Execute(args...)
	if err != nil {
		return nil, err
	}
	if st.ColumnNum() != len(res.Fields) || st.ParamNum() != len(args) {
		return res, &prepareCountError{fmt.Sprintf("prepare announced %d columns and %d params; the result has %d columns and there are %d args",
			st.ColumnNum(), st.ParamNum(), len(res.Fields), len(args))}
	}
	return res, nil
}

// directResult is the result of the shard that has rows for query (the
// first shard when none has).
func directResult(t *testing.T, shards []*client.Conn, query string, args []any) *mysql.Result {
	t.Helper()
	var first *mysql.Result
	for _, c := range shards {
		var res *mysql.Result
		var err error
		if args == nil {
			res, err = c.Execute(query)
		} else {
			res, err = prepareExecute(c, query, args...)
		}
		if err != nil {
			t.Fatalf("direct %s: %v", query, err)
		}
		if len(res.RowDatas) > 0 {
			return res
		}
		if first == nil {
			first = res
		}
	}
	return first
}

func compareResults(t *testing.T, what string, gw *client.Conn, want *mysql.Result, run func(*client.Conn) (*mysql.Result, error)) {
	t.Helper()
	got, err := run(gw)
	var countErr *prepareCountError
	if errors.As(err, &countErr) {
		t.Errorf("gateway %s: %v", what, err)
		err = nil
	}
	if err != nil {
		t.Errorf("gateway %s: %v", what, err)
		return
	}
	if len(got.Fields) != len(want.Fields) {
		t.Errorf("%s: got %d columns, want %d", what, len(got.Fields), len(want.Fields))
		return
	}
	for i := range want.Fields {
		if g, w := got.Fields[i].Data, want.Fields[i].Data; !bytes.Equal(g, w) {
			t.Errorf("%s: column %q definition differs:\n got %s\nwant %s", what, want.Fields[i].Name, describeField(got.Fields[i]), describeField(want.Fields[i]))
		}
	}
	if len(got.RowDatas) != len(want.RowDatas) {
		t.Errorf("%s: got %d rows, want %d", what, len(got.RowDatas), len(want.RowDatas))
		return
	}
	for r := range want.RowDatas {
		if bytes.Equal(got.RowDatas[r], want.RowDatas[r]) {
			continue
		}
		// Say which value differs.
		differs := false
		for i, f := range want.Fields {
			g, w := valueString(got, r, i), valueString(want, r, i)
			if g == w {
				continue
			}
			differs = true
			t.Errorf("%s: row %d column %q: got %s, want %s", what, r, f.Name, g, w)
		}
		if differs {
			t.Errorf("%s: row %d packet differs:\n got %x\nwant %x", what, r, got.RowDatas[r], want.RowDatas[r])
		}
	}
}

func valueString(res *mysql.Result, row, col int) string {
	v := res.Values[row][col]
	if v.Type == mysql.FieldValueTypeNull {
		return "NULL"
	}
	if b, ok := v.Value().([]byte); ok {
		return fmt.Sprintf("%q", b)
	}
	return fmt.Sprintf("%v (%T)", v.Value(), v.Value())
}

func describeField(f *mysql.Field) string {
	return fmt.Sprintf("{schema %q table %q/%q name %q/%q charset %d len %d type %d flag %#x decimals %d}",
		f.Schema, f.Table, f.OrgTable, f.Name, f.OrgName, f.Charset, f.ColumnLength, f.Type, f.Flag, f.Decimal)
}

func rawConn(t *testing.T, addr, user, password, db string) *client.Conn {
	t.Helper()
	c, err := client.Connect(addr, user, password, db)
	if err != nil {
		t.Fatalf("connect %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Execute("set names utf8mb4"); err != nil {
		t.Fatal(err)
	}
	return c
}

// prepareCountError: the prepare response announced other counts than
// the execution had; the result is still compared.
type prepareCountError struct{ msg string }

func (e *prepareCountError) Error() string { return e.msg }

// columnTypes describes go-sql-driver's ColumnTypes of a query's result.
func columnTypes(t *testing.T, db *sql.DB, query string, args []any) string {
	t.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, ct := range cts {
		nullable, _ := ct.Nullable()
		length, _ := ct.Length()
		prec, scale, _ := ct.DecimalSize()
		fmt.Fprintf(&b, "%s %s null=%v len=%d dec=%d,%d scan=%v\n", ct.Name(), ct.DatabaseTypeName(), nullable, length, prec, scale, ct.ScanType())
	}
	return b.String()
}

// TestPrepareCache: the gateway asks a shard for a prepared SELECT's
// columns once (counted by the shard's Com_stmt_prepare), and again after
// a DDL through the gateway changed them.
func TestPrepareCache(t *testing.T) {
	db := shared.db(t, unsharded, "")
	mustExec(t, db, "drop table if exists prep_t")
	mustExec(t, db, "create table prep_t (id bigint primary key, a int)")
	in := shared.Get(t).Cluster.Primary(unsharded, "0")
	if in == nil {
		t.Fatal("no primary for the unsharded keyspace")
	}
	direct := rawConn(t, in.Mysqld.Addr(), "root", "", unsharded)
	prepares := func() int64 {
		res := mustRaw(t, direct, "show global status like 'Com_stmt_prepare'")
		n, _ := strconv.ParseInt(string(res.Values[0][1].AsString()), 10, 64)
		return n
	}
	gw := rawConn(t, shared.Get(t).Gateway.Addr(), user, password, unsharded)
	columns := func() int {
		st, err := gw.Prepare("select * from prep_t where id = ?")
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		return st.ColumnNum()
	}
	before := prepares()
	if got := columns(); got != 2 {
		t.Fatalf("first prepare: got %d columns, want 2", got)
	}
	if got := columns(); got != 2 {
		t.Fatalf("second prepare: got %d columns, want 2", got)
	}
	if got := prepares() - before; got != 1 {
		t.Errorf("two prepares of one SELECT: the shard prepared %d times, want 1", got)
	}
	mustExec(t, db, "alter table prep_t add column b int")
	if got := columns(); got != 3 {
		t.Errorf("prepare after ALTER TABLE: got %d columns, want 3", got)
	}
}
