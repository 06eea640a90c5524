package wire

import (
	"bufio"
	"bytes"
	"io"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// execPacket builds a COM_STMT_EXECUTE packet for stmt 1 with two
// parameters; types nil means new-params-bound-flag 0.
func execPacket(types, values []byte) []byte {
	payload := []byte{mysql.COM_STMT_EXECUTE, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0x00}
	if types != nil {
		payload = append(payload, 1)
		payload = append(payload, types...)
	} else {
		payload = append(payload, 0)
	}
	payload = append(payload, values...)
	return append([]byte{byte(len(payload)), byte(len(payload) >> 8), byte(len(payload) >> 16), 0}, payload...)
}

// TestStmtExecuteWithoutTypes: a client that sends the parameter types
// only on the first execute (libmariadb) gets its values on the next ones.
func TestStmtExecuteWithoutTypes(t *testing.T) {
	types := []byte{mysql.MYSQL_TYPE_LONGLONG, 0, mysql.MYSQL_TYPE_LONGLONG, 0}
	v1 := []byte{5, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0}
	v2 := []byte{7, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0}
	var in bytes.Buffer
	in.Write(execPacket(types, v1))
	in.Write(execPacket(nil, v2))
	in.Write(execPacket(nil, v2)) // again: no growth of the rewrite
	var st ServerFence
	st.Prepared(1, 2)
	r := &packetReader{r: bufio.NewReader(&in), fence: &st}
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	want := append(append(execPacket(types, v1), execPacket(types, v2)...), execPacket(types, v2)...)
	if !bytes.Equal(got, want) {
		t.Errorf("got  %x\nwant %x", got, want)
	}

	// Statements it does not know pass unchanged.
	in.Reset()
	in.Write(execPacket(nil, v2))
	r = &packetReader{r: bufio.NewReader(&in), fence: &ServerFence{}}
	if got, _ := io.ReadAll(r); !bytes.Equal(got, execPacket(nil, v2)) {
		t.Errorf("unknown statement rewritten: %x", got)
	}
}

// longDataPacket builds a COM_STMT_SEND_LONG_DATA packet for stmt 1.
func longDataPacket(param uint16, data string) []byte {
	payload := append([]byte{mysql.COM_STMT_SEND_LONG_DATA, 1, 0, 0, 0, byte(param), byte(param >> 8)}, data...)
	return append([]byte{byte(len(payload)), byte(len(payload) >> 8), byte(len(payload) >> 16), 0}, payload...)
}

// TestSendLongData: chunks sent with COM_STMT_SEND_LONG_DATA never reach
// go-mysql; the next execute carries them as the parameter's LONG_BLOB
// value (the other values kept), and the one after has none.
func TestSendLongData(t *testing.T) {
	types := []byte{mysql.MYSQL_TYPE_LONGLONG, 0, mysql.MYSQL_TYPE_BLOB, 0}
	v1 := []byte{5, 0, 0, 0, 0, 0, 0, 0}                   // param 0; param 1's value was sent as long data
	v2 := []byte{7, 0, 0, 0, 0, 0, 0, 0, 3, 'a', 'b', 'c'} // both values inline
	var in bytes.Buffer
	in.Write(longDataPacket(1, "hello, "))
	in.Write(longDataPacket(1, "world"))
	in.Write(execPacket(types, v1))
	in.Write(execPacket(nil, v2))
	var st ServerFence
	st.Prepared(1, 2)
	r := &packetReader{r: bufio.NewReader(&in), fence: &st}
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	longTypes := []byte{mysql.MYSQL_TYPE_LONGLONG, 0, mysql.MYSQL_TYPE_LONG_BLOB, 0}
	want := append(execPacket(longTypes, append(v1, append([]byte{12}, "hello, world"...)...)), execPacket(types, v2)...)
	if !bytes.Equal(got, want) {
		t.Errorf("got  %x\nwant %x", got, want)
	}
}

// TestLongDataTooLarge: data over the limit marks the statement, once;
// later chunks are not kept.
func TestLongDataTooLarge(t *testing.T) {
	l := LongData{Max: 8}
	l.Add(append([]byte{1, 0, 0, 0, 0, 0}, "12345"...))
	l.Add(append([]byte{1, 0, 0, 0, 0, 0}, "6789"...))
	l.Add(append([]byte{1, 0, 0, 0, 0, 0}, "x"...))
	if len(l.data[1][0]) != 0 {
		t.Errorf("kept %q after the limit", l.data[1][0])
	}
	if !l.TakeTooLarge(1) || l.TakeTooLarge(1) {
		t.Error("TakeTooLarge: want true once")
	}
}

// TestFramePackets: payloads of 16 MiB - 1 bytes and more are split as
// MySQL splits them, with an empty last packet when the size is exact.
func TestFramePackets(t *testing.T) {
	for _, n := range []int{0, 10, 0xffffff, 0xffffff + 5} {
		out := AppendPackets(nil, make([]byte, n), 3)
		var sizes []int
		var seqs []byte
		for len(out) > 0 {
			size := int(out[0]) | int(out[1])<<8 | int(out[2])<<16
			sizes, seqs = append(sizes, size), append(seqs, out[3])
			out = out[4+size:]
		}
		total := 0
		for _, s := range sizes {
			total += s
		}
		last := sizes[len(sizes)-1]
		if total != n || last >= 0xffffff || seqs[0] != 3 || int(seqs[len(seqs)-1]) != 3+len(seqs)-1 {
			t.Errorf("payload %d: packets %v seqs %v", n, sizes, seqs)
		}
	}
}

// FuzzStmtExecuteRewrite: no client packet makes the rewrite of
// COM_STMT_EXECUTE (parameter types, long data) panic.
func FuzzStmtExecuteRewrite(f *testing.F) {
	f.Add([]byte{mysql.MYSQL_TYPE_LONGLONG, 0, mysql.MYSQL_TYPE_BLOB, 0}, []byte{5, 0, 0, 0, 0, 0, 0, 0, 0xfc, 1})
	f.Add([]byte{mysql.MYSQL_TYPE_VAR_STRING, 0, mysql.MYSQL_TYPE_BLOB, 0}, []byte{0xfe, 1, 2})
	f.Fuzz(func(t *testing.T, types, values []byte) {
		var in bytes.Buffer
		in.Write(longDataPacket(1, "long"))
		in.Write(execPacket(types, values))
		in.Write(execPacket(nil, values))
		var st ServerFence
		st.Prepared(1, 2)
		r := &packetReader{r: bufio.NewReader(&in), fence: &st}
		_, _ = io.ReadAll(r)
	})
}

// TestSendLongDataOverSeveralPackets: a chunk of 16 MiB or more arrives
// in several packets and is kept whole.
func TestSendLongDataOverSeveralPackets(t *testing.T) {
	data := bytes.Repeat([]byte{'x'}, 0xffffff+100)
	payload := append([]byte{mysql.COM_STMT_SEND_LONG_DATA, 1, 0, 0, 0, 1, 0}, data...)
	var in bytes.Buffer
	in.Write(AppendPackets(nil, payload, 0))
	types := []byte{mysql.MYSQL_TYPE_LONGLONG, 0, mysql.MYSQL_TYPE_BLOB, 0}
	in.Write(execPacket(types, []byte{5, 0, 0, 0, 0, 0, 0, 0}))
	var st ServerFence
	st.Prepared(1, 2)
	r := &packetReader{r: bufio.NewReader(&in), fence: &st}
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	// The execute, re-framed: its payload carries the whole chunk.
	var body []byte
	for len(got) > 0 {
		size := int(got[0]) | int(got[1])<<8 | int(got[2])<<16
		body = append(body, got[4:4+size]...)
		got = got[4+size:]
	}
	if body[0] != mysql.COM_STMT_EXECUTE || !bytes.HasSuffix(body, data) || len(body) != 10+1+1+4+8+9+len(data) {
		t.Errorf("execute payload: %d bytes starting %x, want the COM_STMT_EXECUTE with the %d bytes of long data inline", len(body), body[:min(len(body), 16)], len(data))
	}
}
