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
