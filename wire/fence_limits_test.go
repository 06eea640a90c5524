package wire

import (
	"bufio"
	"bytes"
	"io"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// TestOversizedCommandRefused: a command of several packets over the
// limit reaches go-mysql as ComRefusedTooLarge, with the sequence number
// its answer continues from; the next command passes unchanged.
func TestOversizedCommandRefused(t *testing.T) {
	var in bytes.Buffer
	big := append([]byte{mysql.COM_QUERY}, bytes.Repeat([]byte{'x'}, 2*MaxPayload+10)...)
	in.Write(AppendPackets(nil, big, 0))
	in.Write(AppendPackets(nil, []byte{mysql.COM_PING}, 0))
	var st ServerFence
	st.SetMaxLongData(MaxPayload + 1)
	r := &packetReader{r: bufio.NewReader(&in), fence: &st}
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{1, 0, 0, 0, ComRefusedTooLarge, 1, 0, 0, 0, mysql.COM_PING}
	if !bytes.Equal(got, want) {
		t.Fatalf("got %x, want %x", got[:min(len(got), 32)], want)
	}
	if st.RefusedSequence() != 3 {
		t.Errorf("refused sequence: got %d, want 3 (after packets 0, 1, 2)", st.RefusedSequence())
	}
}

// TestCommandUnderLimitWhole: a command of several packets under the
// limit reaches go-mysql whole, headers included.
func TestCommandUnderLimitWhole(t *testing.T) {
	big := append([]byte{mysql.COM_QUERY}, bytes.Repeat([]byte{'y'}, MaxPayload+10)...)
	framed := AppendPackets(nil, big, 0)
	var st ServerFence
	r := &packetReader{r: bufio.NewReader(bytes.NewReader(framed)), fence: &st}
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, framed) {
		t.Fatalf("got %d bytes (%v), want the %d sent", len(got), err, len(framed))
	}
}

// FuzzFenceStream: no byte stream from a client makes the fence's reader
// (framing, limits, COM_STMT_EXECUTE rewrite, long data) panic, and what
// it hands go-mysql is whole packets.
func FuzzFenceStream(f *testing.F) {
	f.Add(AppendPackets(nil, append([]byte{mysql.COM_QUERY}, "select 1"...), 0), 1<<20)
	f.Add([]byte{0xff, 0xff, 0xff, 0x00, mysql.COM_QUERY}, 100)
	f.Add(append(longDataPacket(1, "long"), execPacket([]byte{mysql.MYSQL_TYPE_LONGLONG, 0, mysql.MYSQL_TYPE_BLOB, 0}, []byte{5, 0, 0, 0, 0, 0, 0, 0})...), 3)
	f.Fuzz(func(t *testing.T, stream []byte, limit int) {
		var st ServerFence
		st.Prepared(1, 2)
		st.SetMaxLongData(limit % (1 << 20))
		r := &packetReader{r: bufio.NewReader(bytes.NewReader(stream)), fence: &st}
		out, _ := io.ReadAll(r)
		for len(out) >= HeaderSize {
			size := int(out[0]) | int(out[1])<<8 | int(out[2])<<16
			if len(out) < HeaderSize+size {
				t.Fatalf("handed go-mysql a partial packet: header says %d, %d bytes follow", size, len(out)-HeaderSize)
			}
			out = out[HeaderSize+size:]
		}
	})
}

// Regression test (FuzzCommand): an empty command packet reached
// go-mysql, which read its missing command byte and panicked; it becomes
// COM_SLEEP, an unknown command.
func TestEmptyCommandBecomesSleep(t *testing.T) {
	var st ServerFence
	r := &packetReader{r: bufio.NewReader(bytes.NewReader([]byte{0, 0, 0, 0})), fence: &st}
	got, _ := io.ReadAll(r)
	if want := []byte{1, 0, 0, 0, mysql.COM_SLEEP}; !bytes.Equal(got, want) {
		t.Errorf("got %x, want %x", got, want)
	}
}

// Regression test (FuzzHandshakeResponse): responses whose fields run
// past the end are refused before go-mysql decodes them; real ones pass.
func TestWellFormedHandshakeResponse(t *testing.T) {
	fixed := func(caps uint32) []byte {
		p := make([]byte, 32)
		p[0], p[1], p[2], p[3] = byte(caps), byte(caps>>8), byte(caps>>16), byte(caps>>24)
		return p
	}
	base := uint32(mysql.CLIENT_PROTOCOL_41 | mysql.CLIENT_SECURE_CONNECTION | mysql.CLIENT_PLUGIN_AUTH | mysql.CLIENT_CONNECT_WITH_DB)
	good := append(fixed(base), "root\x00\x02ab"+"shop\x00mysql_native_password\x00"...)
	for _, tc := range []struct {
		name string
		p    []byte
		ok   bool
	}{
		{"real", good, true},
		{"ssl request", fixed(base | mysql.CLIENT_SSL), true},
		{"auth data past the end", append(fixed(base), "root\x00\x30ab"...), false},
		{"lenenc auth past the end", append(fixed(base|mysql.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA), "root\x00\xfc\xff\xffab"...), false},
		{"no user terminator", append(fixed(base), "root"...), false},
		{"no plugin terminator", append(fixed(base), "root\x00\x00shop\x00mysql"...), false},
		{"attributes past the end", append(append(fixed(base|mysql.CLIENT_CONNECT_ATTRS), "root\x00\x00shop\x00p\x00"...), 0x20, 'a'), false},
		{"short", []byte{1, 2, 3}, false},
	} {
		if got := WellFormedHandshakeResponse(tc.p); got != tc.ok {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.ok)
		}
	}
}

// Regression test: after a long command, the next long one is measured
// from its own first packet, not the buffer the first left behind (it was
// refused with 1153 although under the limit, or appended to stale data).
func TestLongCommandsInARow(t *testing.T) {
	first := append([]byte{mysql.COM_QUERY}, bytes.Repeat([]byte{'a'}, 3*MaxPayload)...)
	second := append([]byte{mysql.COM_QUERY}, bytes.Repeat([]byte{'b'}, MaxPayload+5)...)
	var in bytes.Buffer
	in.Write(AppendPackets(nil, first, 0))
	in.Write(AppendPackets(nil, second, 0))
	var st ServerFence
	st.SetMaxLongData(4 * MaxPayload)
	r := &packetReader{r: bufio.NewReader(&in), fence: &st}
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	want := append(AppendPackets(nil, first, 0), AppendPackets(nil, second, 0)...)
	if !bytes.Equal(got, want) {
		t.Fatalf("got %d bytes, want both commands whole (%d bytes)", len(got), len(want))
	}
}
