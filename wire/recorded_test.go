package wire

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Byte-for-byte tests against packets recorded from MariaDB 10.11
// (testdata/mariadb-10.11.txt, written by record_test.go): each packet
// decodes to the values MariaDB meant, and those values encode back to
// the very same bytes.

// recorded reads the recorded packets by name.
func recorded(t *testing.T) map[string][]byte {
	t.Helper()
	f, err := os.Open("testdata/mariadb-10.11.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pkts := map[string][]byte{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, hx, ok := strings.Cut(line, " ")
		b, err := hex.DecodeString(hx)
		if !ok || err != nil {
			t.Fatalf("testdata line %q: %v", line, err)
		}
		pkts[name] = b
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return pkts
}

func TestRecordedOK(t *testing.T) {
	pkts := recorded(t)
	for _, tc := range []struct {
		name string
		want OK
		info string
	}{
		{"ok_insert", OK{AffectedRows: 1, InsertID: 1, Status: mysql.SERVER_STATUS_AUTOCOMMIT}, ""},
		{"ok_update_info", OK{AffectedRows: 1, Status: mysql.SERVER_STATUS_AUTOCOMMIT, Matched: 1, HasMatched: true}, "Rows matched: 1  Changed: 1  Warnings: 0"},
	} {
		pkt := pkts[tc.name]
		got, err := ParseOK(pkt)
		if err != nil || got != tc.want {
			t.Errorf("ParseOK(%s %x) = %+v, %v; want %+v", tc.name, pkt, got, err, tc.want)
		}
		// Without CLIENT_SESSION_TRACK the info is the rest of the packet.
		if enc := AppendOK(nil, tc.want, tc.info, false); !bytes.Equal(enc, pkt) {
			t.Errorf("AppendOK(%+v, %q) = %x, want %s %x", tc.want, tc.info, enc, tc.name, pkt)
		}
	}
}

func TestRecordedERR(t *testing.T) {
	pkt := recorded(t)["err_no_table"]
	err := ParseERR(pkt)
	want := &mysql.MyError{Code: mysql.ER_NO_SUCH_TABLE, State: "42S02", Message: "Table 'app.nope' doesn't exist"}
	var me *mysql.MyError
	if !errors.As(err, &me) || *me != *want {
		t.Fatalf("ParseERR(%x) = %#v, want %#v", pkt, err, want)
	}
	if enc := AppendERR(nil, want); !bytes.Equal(enc, pkt) {
		t.Errorf("AppendERR(%#v) = %x, want %x", want, enc, pkt)
	}
}

func TestRecordedEOF(t *testing.T) {
	pkts := recorded(t)
	// SERVER_STATUS_NO_INDEX_USED: the SELECT scanned the table.
	scan := uint16(mysql.SERVER_STATUS_AUTOCOMMIT | mysql.SERVER_STATUS_NO_INDEX_USED)
	for _, tc := range []struct {
		name string
		want OK
	}{
		{"eof_columns", OK{Status: scan}},
		{"eof_rows", OK{Status: scan}},
		{"eof_rows_warning", OK{Status: mysql.SERVER_STATUS_AUTOCOMMIT, Warnings: 1}},
	} {
		pkt := pkts[tc.name]
		got, err := ParseEOF(pkt)
		if !IsEOF(pkt) || err != nil || got != tc.want {
			t.Errorf("ParseEOF(%s %x) = %+v, %v (IsEOF %v); want %+v", tc.name, pkt, got, err, IsEOF(pkt), tc.want)
		}
		if enc := AppendEOF(nil, tc.want.Status, tc.want.Warnings); !bytes.Equal(enc, pkt) {
			t.Errorf("AppendEOF(%+v) = %x, want %s %x", tc.want, enc, tc.name, pkt)
		}
	}
}

// recordedColumns are the columns of recordedSelect as MariaDB describes
// them: type, flags, decimals, display length.
var recordedColumns = []struct {
	name     string
	typ      byte
	flag     uint16
	decimals uint8
	length   uint32
}{
	{"id", mysql.MYSQL_TYPE_LONGLONG, mysql.NOT_NULL_FLAG | mysql.PRI_KEY_FLAG | mysql.AUTO_INCREMENT_FLAG | mysql.PART_KEY_FLAG, 0, 20},
	{"i", mysql.MYSQL_TYPE_LONG, 0, 0, 11},
	{"u", mysql.MYSQL_TYPE_LONG, mysql.UNSIGNED_FLAG, 0, 10},
	{"f", mysql.MYSQL_TYPE_FLOAT, 0, 31, 12},
	{"d", mysql.MYSQL_TYPE_DOUBLE, 0, 31, 22},
	{"dc", mysql.MYSQL_TYPE_NEWDECIMAL, 0, 3, 12},
	{"dt", mysql.MYSQL_TYPE_DATETIME, mysql.BINARY_FLAG, 0, 19},
	{"dt6", mysql.MYSQL_TYPE_DATETIME, mysql.BINARY_FLAG, 6, 26},
	{"tm", mysql.MYSQL_TYPE_TIME, mysql.BINARY_FLAG, 0, 10},
	{"s", mysql.MYSQL_TYPE_VAR_STRING, 0, 0, 80},
}

// recordedFields parses the recorded column definitions.
func recordedFields(t *testing.T, pkts map[string][]byte) []*mysql.Field {
	t.Helper()
	fields := make([]*mysql.Field, len(recordedColumns))
	for i, c := range recordedColumns {
		fields[i] = new(mysql.Field)
		if err := ParseColumn(fields[i], pkts["column_"+c.name]); err != nil {
			t.Fatalf("ParseColumn(column_%s): %v", c.name, err)
		}
	}
	return fields
}

func TestRecordedColumns(t *testing.T) {
	pkts := recorded(t)
	if n, ok := ParseColumnCount(pkts["column_count"]); !ok || n != len(recordedColumns) {
		t.Errorf("ParseColumnCount(%x) = %d, %v; want %d", pkts["column_count"], n, ok, len(recordedColumns))
	}
	if enc := AppendColumnCount(nil, len(recordedColumns)); !bytes.Equal(enc, pkts["column_count"]) {
		t.Errorf("AppendColumnCount = %x, want %x", enc, pkts["column_count"])
	}
	for i, f := range recordedFields(t, pkts) {
		c := recordedColumns[i]
		pkt := pkts["column_"+c.name]
		charset := uint16(63) // binary
		if c.name == "s" {
			charset = 45 // utf8mb4_general_ci
		}
		if string(f.Schema) != "app" || string(f.Table) != "t" || string(f.OrgTable) != "t" || string(f.Name) != c.name || string(f.OrgName) != c.name ||
			f.Type != c.typ || f.Flag != c.flag || f.Decimal != c.decimals || f.ColumnLength != c.length || f.Charset != charset {
			t.Errorf("ParseColumn(%x) = %s.%s.%s type %d flag %#x decimals %d length %d charset %d; want app.t.%s type %d flag %#x decimals %d length %d charset %d",
				pkt, f.Schema, f.Table, f.Name, f.Type, f.Flag, f.Decimal, f.ColumnLength, f.Charset, c.name, c.typ, c.flag, c.decimals, c.length, charset)
		}
		if typ, ok := ColumnType(pkt); !ok || typ != c.typ {
			t.Errorf("ColumnType(column_%s) = %d, %v; want %d", c.name, typ, ok, c.typ)
		}
		// Encoded from the values (not the kept bytes), it is MariaDB's.
		fresh := *f
		fresh.Data = nil
		if enc := AppendColumn(nil, &fresh); !bytes.Equal(enc, pkt) {
			t.Errorf("AppendColumn(%s) = %x, want %x", c.name, enc, pkt)
		}
	}
}

// The recorded rows' values as the text protocol shows them; NULL is nil.
var (
	recordedRow1 = []string{"1", "-6", "4000000000", "3.14159", "2.718281828459045", "-12.345",
		"2024-02-29 13:14:15", "2024-02-29 13:14:15.000001", "-34:05:06", "héllo"}
	recordedRow2 = []string{"2", "", "", "", "", "", "2024-02-29 00:00:00", "", "", ""}
)

// values turns a recorded row (with "" for NULL, except in the columns
// keep) into [][]byte.
func values(row []string) [][]byte {
	out := make([][]byte, len(row))
	for i, v := range row {
		if v != "" {
			out[i] = []byte(v)
		}
	}
	return out
}

func TestRecordedTextRows(t *testing.T) {
	pkts := recorded(t)
	for name, want := range map[string][]string{"text_row_1": recordedRow1, "text_row_2": recordedRow2} {
		pkt := pkts[name]
		got := make([][]byte, len(want))
		if err := ParseTextRow(pkt, got); err != nil {
			t.Fatalf("ParseTextRow(%s): %v", name, err)
		}
		if w := values(want); !equalRows(got, w) {
			t.Errorf("ParseTextRow(%s %x) = %q, want %q", name, pkt, got, w)
		}
		if enc := AppendTextRow(nil, got); !bytes.Equal(enc, pkt) {
			t.Errorf("AppendTextRow(%q) = %x, want %s %x", got, enc, name, pkt)
		}
	}
}

// TestRecordedBinaryRows: MariaDB's binary rows (NULL bitmap, FLOAT,
// DOUBLE, DECIMAL, DATETIME with and without a fraction, TIME, unsigned)
// decode to the text protocol's values, except FLOAT, which decodes to
// the float32 exactly; encoding those values gives MariaDB's bytes back.
func TestRecordedBinaryRows(t *testing.T) {
	pkts := recorded(t)
	fields := recordedFields(t, pkts)
	exact := append([]string(nil), recordedRow1...)
	exact[3] = "3.1415927"
	var d BinaryRowDecoder
	for name, want := range map[string][]string{"binary_row_1": exact, "binary_row_2": recordedRow2} {
		pkt := pkts[name]
		got := make([][]byte, len(want))
		if err := d.Decode(pkt, fields, got); err != nil {
			t.Fatalf("Decode(%s): %v", name, err)
		}
		if w := values(want); !equalRows(got, w) {
			t.Errorf("Decode(%s %x) = %q, want %q", name, pkt, got, w)
		}
		enc, err := AppendBinaryRow(nil, fields, got)
		if err != nil || !bytes.Equal(enc, pkt) {
			t.Errorf("AppendBinaryRow(%q) = %x, %v; want %s %x", got, enc, err, name, pkt)
		}
	}
}

func TestRecordedPrepareOK(t *testing.T) {
	pkt := recorded(t)["prepare_ok"]
	got, err := ParsePrepareOK(pkt)
	if want := (PrepareOK{StmtID: 1, Columns: len(recordedColumns), Params: 1}); err != nil || got != want {
		t.Errorf("ParsePrepareOK(%x) = %+v, %v; want %+v", pkt, got, err, want)
	}
}

// TestRecordedExecute: the COM_STMT_EXECUTE packets (written from the
// protocol documentation and accepted by MariaDB when recorded) as the
// fence rewrites them for go-mysql: types filled in when the client did
// not send them again, long data inline. MariaDB answered each rewritten
// packet exactly as it answered the client's.
func TestRecordedExecute(t *testing.T) {
	pkts := recorded(t)
	var f ServerFence
	f.Prepared(1, 1)
	if out, ok := f.rewrite(nil, pkts["execute_with_types"]); ok {
		t.Errorf("execute with types rewritten to %x, want it unchanged", out)
	}
	out, ok := f.rewrite(nil, pkts["execute_without_types"])
	if !ok || !bytes.Equal(out, pkts["execute_types_filled"]) {
		t.Errorf("execute without types: rewritten %v to %x, want %x", ok, out, pkts["execute_types_filled"])
	}
	// The values of the first execute: one LONGLONG, 1.
	exec := pkts["execute_with_types"]
	if w, ok := ParamWidth(exec[12], exec[14:]); !ok || w != 8 || exec[14] != 1 || len(exec) != 14+w {
		t.Errorf("ParamWidth(LONGLONG, %x) = %d, %v; want the 8 bytes of 1", exec[14:], w, ok)
	}

	f.Prepared(2, 2)
	f.long.Add(pkts["long_data_chunk_1"][1:])
	f.long.Add(pkts["long_data_chunk_2"][1:])
	out, ok = f.rewrite(nil, pkts["execute_after_long_data"])
	if !ok || !bytes.Equal(out, pkts["execute_long_inlined"]) {
		t.Errorf("execute after long data: rewritten %v to %x, want %x", ok, out, pkts["execute_long_inlined"])
	}
	if _, ok := f.rewrite(nil, pkts["execute_after_long_data"]); ok {
		t.Error("the long data was inlined twice: want it dropped at the execute")
	}

	// MariaDB's answer to both: 5 and the long data, in binary.
	fields := []*mysql.Field{{Type: mysql.MYSQL_TYPE_LONGLONG, Flag: mysql.BINARY_FLAG}, {Type: mysql.MYSQL_TYPE_VAR_STRING}}
	row := make([][]byte, 2)
	var d BinaryRowDecoder
	if err := d.Decode(pkts["binary_row_long"], fields, row); err != nil || string(row[0]) != "5" || string(row[1]) != "hello, world" {
		t.Errorf("Decode(binary_row_long) = %q, %v; want [5 \"hello, world\"]", row, err)
	}
}

func equalRows(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if (a[i] == nil) != (b[i] == nil) || !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
