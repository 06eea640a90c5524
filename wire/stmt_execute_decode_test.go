package wire

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// execPayload is a COM_STMT_EXECUTE payload of statement 9 with types
// (2 bytes each) and values, nulls set in the NULL bitmap.
func execPayload(types []byte, nulls []int, values []byte) []byte {
	n := len(types) / 2
	p := []byte{mysql.COM_STMT_EXECUTE, 9, 0, 0, 0, 0, 1, 0, 0, 0}
	bitmap := len(p)
	p = append(p, make([]byte, (n+7)/8)...)
	for _, i := range nulls {
		p[bitmap+i/8] |= 1 << (i % 8)
	}
	p = append(p, 1)
	p = append(p, types...)
	return append(p, values...)
}

// TestDecodeStmtExecuteArgs: the gateway's own decoding of an execute's
// arguments gives what go-mysql's decoding followed by NormalizeArgs
// gives, for every parameter type a client sends.
func TestDecodeStmtExecuteArgs(t *testing.T) {
	var values []byte
	values = append(values, 0xff)                                             // TINY -1
	values = append(values, 0xff)                                             // TINY unsigned 255
	values = binary.LittleEndian.AppendUint16(values, 0x8000)                 // SHORT -32768
	values = binary.LittleEndian.AppendUint16(values, 2024)                   // YEAR unsigned
	values = binary.LittleEndian.AppendUint32(values, 1007)                   // LONG 1007 (sysbench's ids)
	values = binary.LittleEndian.AppendUint32(values, math.MaxUint32)         // LONG unsigned
	values = binary.LittleEndian.AppendUint64(values, 1<<63)                  // LONGLONG min
	values = binary.LittleEndian.AppendUint64(values, math.MaxUint64)         // LONGLONG unsigned max
	values = binary.LittleEndian.AppendUint32(values, math.Float32bits(1.1))  // FLOAT
	values = binary.LittleEndian.AppendUint64(values, math.Float64bits(-2.5)) // DOUBLE
	values = append(values, 3, 'a', 'b', 'c')                                 // VAR_STRING
	values = append(values, 0)                                                // STRING ''
	values = append(values, 4, '1', '.', '5', '0')                            // NEWDECIMAL
	values = append(values, 7, 0xe8, 0x07, 2, 29, 13, 14, 15)                 // DATETIME
	values = append(values, 8, 1, 1, 0, 0, 0, 2, 3, 4)                        // TIME
	values = append(values, 0xfb)                                             // BLOB, length-encoded NULL
	types := []byte{
		mysql.MYSQL_TYPE_TINY, 0, mysql.MYSQL_TYPE_TINY, 0x80,
		mysql.MYSQL_TYPE_SHORT, 0, mysql.MYSQL_TYPE_YEAR, 0x80,
		mysql.MYSQL_TYPE_LONG, 0, mysql.MYSQL_TYPE_LONG, 0x80,
		mysql.MYSQL_TYPE_LONGLONG, 0, mysql.MYSQL_TYPE_LONGLONG, 0x80,
		mysql.MYSQL_TYPE_FLOAT, 0, mysql.MYSQL_TYPE_DOUBLE, 0,
		mysql.MYSQL_TYPE_VAR_STRING, 0, mysql.MYSQL_TYPE_STRING, 0,
		mysql.MYSQL_TYPE_NEWDECIMAL, 0, mysql.MYSQL_TYPE_DATETIME, 0,
		mysql.MYSQL_TYPE_TIME, 0, mysql.MYSQL_TYPE_BLOB, 0,
		mysql.MYSQL_TYPE_LONGLONG, 0, // NULL by the bitmap: no value
		mysql.MYSQL_TYPE_NULL, 0,
	}
	payload := execPayload(types, []int{16}, values)
	if id, ok := StmtExecuteID(payload); !ok || id != 9 {
		t.Fatalf("StmtExecuteID: %d %v, want 9", id, ok)
	}
	got, ok := DecodeStmtExecuteArgs(payload, len(types)/2, nil)
	if !ok {
		t.Fatalf("DecodeStmtExecuteArgs(%x): not decoded", payload)
	}
	want, err := NormalizeArgs([]any{int8(-1), uint8(255), int16(-32768), uint16(2024), int32(1007), uint32(math.MaxUint32),
		int64(math.MinInt64), uint64(math.MaxUint64), float32(1.1), -2.5, mysql.TypedBytes{Type: mysql.MYSQL_TYPE_VAR_STRING, Bytes: []byte("abc")},
		mysql.TypedBytes{Type: mysql.MYSQL_TYPE_STRING, Bytes: []byte{}}, mysql.TypedBytes{Type: mysql.MYSQL_TYPE_NEWDECIMAL, Bytes: []byte("1.50")},
		mysql.TypedBytes{Type: mysql.MYSQL_TYPE_DATETIME, Bytes: []byte{0xe8, 0x07, 2, 29, 13, 14, 15}},
		mysql.TypedBytes{Type: mysql.MYSQL_TYPE_TIME, Bytes: []byte{1, 1, 0, 0, 0, 2, 3, 4}}, nil, nil, nil})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d arguments %#v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if !equalArg(got[i], want[i]) || (got[i] == nil) != (want[i] == nil) {
			t.Errorf("argument %d: got %#v, want %#v", i, got[i], want[i])
		}
	}
	if b, _ := got[11].([]byte); b == nil {
		t.Error("an empty string argument decoded as nil, want an empty value (not NULL)")
	}

	// Appends to the slice given, so the caller reuses it.
	buf := make([]any, 0, 32)
	if again, _ := DecodeStmtExecuteArgs(payload, len(types)/2, buf); &again[0] != &buf[:1][0] {
		t.Error("the arguments were not decoded into the slice given")
	}
}

// TestDecodeStmtExecuteArgsLeavesTheRest: executes the gateway does not
// decode itself are left to go-mysql (ok false), whose answers they keep.
func TestDecodeStmtExecuteArgsLeavesTheRest(t *testing.T) {
	long := []byte{mysql.MYSQL_TYPE_LONGLONG, 0}
	eight := make([]byte, 8)
	cursor := execPayload(long, nil, eight)
	cursor[5] = mysql.CURSOR_TYPE_READ_ONLY
	unbound := execPayload(long, nil, eight)
	unbound[11] = 0 // new params bound 0: types never sent
	unbound = unbound[:12]
	for name, c := range map[string]struct {
		payload []byte
		params  int
	}{
		"a cursor":                {cursor, 1},
		"types never sent":        {unbound, 1},
		"a value cut short":       {execPayload(long, nil, eight[:5]), 1},
		"a string cut short":      {execPayload([]byte{mysql.MYSQL_TYPE_STRING, 0}, nil, []byte{9, 'a'}), 1},
		"an unknown type":         {execPayload([]byte{0x40, 0}, nil, eight), 1},
		"a bad binary date":       {execPayload([]byte{mysql.MYSQL_TYPE_DATE, 0}, nil, []byte{2, 1, 2}), 1},
		"fewer types than params": {execPayload(long, nil, eight), 2},
		"not an execute":          {[]byte{mysql.COM_QUERY, 's', 'e', 'l', 'e', 'c', 't', ' ', '1', ';'}, 0},
	} {
		if args, ok := DecodeStmtExecuteArgs(c.payload, c.params, nil); ok {
			t.Errorf("%s (%x): decoded %#v, want it left to go-mysql", name, c.payload, args)
		}
	}
}

// TestNextCommand: the fence shows the next command (an execute as the
// fence rewrote it) without consuming it; go-mysql reads it unless
// TakeCommand consumed it.
func TestNextCommand(t *testing.T) {
	types := []byte{mysql.MYSQL_TYPE_LONGLONG, 0, mysql.MYSQL_TYPE_LONGLONG, 0}
	v1 := []byte{5, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0}
	ping := []byte{1, 0, 0, 0, mysql.COM_PING}
	var in bytes.Buffer
	in.Write(execPacket(types, v1))
	in.Write(execPacket(nil, v1)) // types remembered from the first
	in.Write(ping)
	var f ServerFence
	f.Prepared(1, 2)
	f.ReadConn(nil)
	f.reader.r = bufio.NewReader(&in)
	for i := range 2 {
		payload, seq, err := f.NextCommand()
		if err != nil || seq != 0 || !bytes.Equal(payload, execPacket(types, v1)[HeaderSize:]) {
			t.Fatalf("execute %d: got %x seq %d %v, want %x", i, payload, seq, err, execPacket(types, v1)[HeaderSize:])
		}
		if again, _, _ := f.NextCommand(); !bytes.Equal(again, payload) {
			t.Fatalf("execute %d: a second look shows %x", i, again)
		}
		f.TakeCommand()
	}
	payload, _, err := f.NextCommand()
	if err != nil || !bytes.Equal(payload, ping[HeaderSize:]) {
		t.Fatalf("got %x %v, want COM_PING", payload, err)
	}
	// Not taken: go-mysql reads it.
	if got, err := io.ReadAll(f.reader); err != nil || !bytes.Equal(got, ping) {
		t.Errorf("go-mysql read %x %v, want the COM_PING packet", got, err)
	}
}
