package wire

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// The fence: every workaround the gateway needs around go-mysql v1.16's
// server package (which runs its handshake and command loop), in this one
// file, each with its reason. Nothing else in the repository patches
// go-mysql's packets or state. When go-mysql serves these commands itself,
// the matching piece goes.
//
//  1. ServerFence.rewrite: COM_STMT_EXECUTE without parameter types.
//     A client sends the types only when they change (libmariadb: on the
//     first execute after binding) and the values every time; with
//     new_params_bound_flag 0, go-mysql reads no values at all and hands
//     the handler nil arguments, so `WHERE id = ?` silently ran as
//     `id = NULL`. The fence remembers each statement's last types and
//     rewrites such packets to carry them (flag 1) before go-mysql reads
//     them.
//  2. COM_STMT_SEND_LONG_DATA: go-mysql keeps the data but still reads
//     every value from the COM_STMT_EXECUTE packet, which omits them, and
//     fails with "Malform packet". The fence keeps the chunks (the packets
//     never reach go-mysql) and writes them into the next execute as the
//     parameter's LONG_BLOB value (long_data.go), so go-mysql reads them
//     like any other argument.
//  3. FixExecuteSequence: an execute rewritten past 16 MiB gains packets;
//     go-mysql counted them in its sequence number, the client did not,
//     so the response's sequence is taken back by as many.
//  4. NextStmtID: go-mysql numbers every COM_STMT_PREPARE from 1,
//     successful or not, and the rewrite must know which statement an
//     execute names before go-mysql does; the fence mirrors the numbering.
//  5. ReadConn: the above happen in a reader that hands go-mysql the
//     client's packets one at a time, installed under go-mysql's packet
//     reader after the handshake.
//  6. BufferedConn: go-mysql writes every packet with its own write
//     call, a syscall per row; the connection batches a response.
//  7. BufferedConn.Write, first packet: go-mysql's greeting cannot
//     advertise CLIENT_FOUND_ROWS (Server.SetCapability refuses it), and
//     clients only send the flags a server advertises, so a client that
//     asks for matched rather than changed rows (go-sql-driver's
//     clientFoundRows, JDBC's useAffectedRows=false) was never told them.
//     The greeting gains the flag on its way out; the gateway answers it
//     (engine.Result.RowsMatched).
//  8. Limits (fence_limits.go): go-mysql allocates what a packet's
//     length header claims before reading it, and waits forever for the
//     rest of a packet. The reader checks a command's length against
//     max_allowed_packet before anything is allocated, drains one that is
//     over it and hands go-mysql a one-byte command in its place
//     (ComRefusedTooLarge) that the gateway answers with 1153; and it
//     bounds the wait for a packet's rest (net_read_timeout).
//
//  9. NextCommand: go-mysql reads every command into a fresh buffer,
//     and a COM_STMT_EXECUTE's arguments into a fresh slice, boxing
//     each value twice with NormalizeArgs: the prepared point select's
//     most allocations. The gateway reads the next command first and
//     serves the executes it can decode itself (DecodeStmtExecuteArgs),
//     from the reader's reused buffer; every other command, and any
//     execute it leaves, goes to go-mysql as before.
//
// The gateway's other go-mysql seams are not workarounds but its API:
// Handler methods, a Resultset go-mysql will not write for responses the
// gateway wrote itself, HandleOtherCommand for COM_CHANGE_USER.

// ServerFence is one client connection's state for the workarounds above.
// It is used from the connection's goroutine only.
type ServerFence struct {
	// nextID mirrors go-mysql's statement ids (4).
	nextID uint32
	params map[uint32]int    // parameter count per prepared statement
	types  map[uint32][]byte // last types sent per statement (1)
	// long keeps COM_STMT_SEND_LONG_DATA chunks until the execute (2).
	long LongData
	// extraPackets counts the packets a rewritten COM_STMT_EXECUTE gained
	// over the one the client sent (3).
	extraPackets uint8
	// readTimeout bounds the wait for the rest of a packet (8);
	// refusedSeq is the sequence number the answer to the last refused
	// command continues from.
	readTimeout time.Duration
	refusedSeq  uint8
	// reader is the packet reader ReadConn installed (9).
	reader *packetReader
}

// NextStmtID returns the id go-mysql gives the COM_STMT_PREPARE being
// handled: call it once for every prepare, failed or not (4).
func (f *ServerFence) NextStmtID() uint32 {
	f.nextID++
	return f.nextID
}

// Prepared records a prepared statement's parameter count.
func (f *ServerFence) Prepared(id uint32, params int) {
	if f.params == nil {
		f.params, f.types = map[uint32]int{}, map[uint32][]byte{}
	}
	f.params[id] = params
}

// Closed forgets a statement (COM_STMT_CLOSE).
func (f *ServerFence) Closed(id uint32) {
	delete(f.params, id)
	delete(f.types, id)
	f.long.Drop(id)
}

// SetMaxLongData bounds one parameter's long data (max_allowed_packet; 0
// is DefaultMaxAllowedPacket).
func (f *ServerFence) SetMaxLongData(max int) { f.long.Max = max }

// LongDataTooLarge reports, once, that the statement's long data went
// over the limit: its execute must be refused (1153) instead of run with
// part of a value.
func (f *ServerFence) LongDataTooLarge(id uint32) bool { return f.long.TakeTooLarge(id) }

// FixExecuteSequence corrects go-mysql's sequence number before the
// response to a COM_STMT_EXECUTE, which continues the sequence of the
// packets the client sent, not of the ones the fence made of them (3).
func (f *ServerFence) FixExecuteSequence(seq *uint8) {
	*seq -= f.extraPackets
	f.extraPackets = 0
}

// rewrite looks at a COM_STMT_EXECUTE payload: it remembers the types it
// carries, or appends to dst the payload with the remembered types (and
// any long data) filled in (ok true) when it needs them (1, 2).
func (f *ServerFence) rewrite(dst, payload []byte) (out []byte, ok bool) {
	if len(payload) < 10 {
		return dst, false
	}
	id := binary.LittleEndian.Uint32(payload[1:5])
	n := f.params[id]
	if n == 0 {
		return dst, false
	}
	pos := 10 + (n+7)/8
	if len(payload) <= pos {
		return dst, false
	}
	switch payload[pos] {
	case 1:
		if len(payload) >= pos+1+2*n {
			f.types[id] = append(f.types[id][:0], payload[pos+1:pos+1+2*n]...)
		}
		if out, ok := f.long.Inline(dst, payload, id, n, f.types[id]); ok {
			delete(f.long.data, id)
			return out, true
		}
	case 0:
		if out, ok := f.long.Inline(dst, payload, id, n, f.types[id]); ok {
			delete(f.long.data, id)
			return out, true
		}
		types := f.types[id]
		if len(types) != 2*n {
			return dst, false // never bound: go-mysql reports what it reports
		}
		dst = append(dst, payload[:pos]...)
		dst = append(dst, 1)
		dst = append(dst, types...)
		return append(dst, payload[pos+1:]...), true
	}
	return dst, false
}

// ReadConn wraps the connection go-mysql reads the client's packets from
// after the handshake (5): the TCP connection, or the TLS connection the
// handshake upgraded it to (below TLS the bytes are TLS records, not
// packets). Install it when the client waits for nothing and go-mysql has
// buffered none of its bytes.
func (f *ServerFence) ReadConn(c net.Conn) net.Conn {
	f.reader = &packetReader{r: bufio.NewReaderSize(c, 16*1024), conn: c, fence: f}
	return &packetReadConn{Conn: c, reader: f.reader}
}

// NextCommand reads the client's next command, as go-mysql's next read
// would (executes rewritten, long data kept, oversized commands
// refused), and returns its payload and sequence number without
// consuming it (9): go-mysql reads it next unless TakeCommand says the
// caller served it. payload is nil for a command of several packets,
// which only go-mysql reads; it aliases the reader's buffer, valid until
// the next read. Call it only between commands, after ReadConn.
func (f *ServerFence) NextCommand() (payload []byte, seq byte, err error) {
	p := f.reader
	if len(p.pending) == 0 {
		if err := p.next(); err != nil {
			return nil, 0, err
		}
	}
	pkt := p.pending
	if len(pkt) < HeaderSize {
		return nil, 0, nil
	}
	size := int(pkt[0]) | int(pkt[1])<<8 | int(pkt[2])<<16
	if size >= MaxPayload || HeaderSize+size != len(pkt) {
		return nil, 0, nil
	}
	return pkt[HeaderSize:], pkt[3], nil
}

// TakeCommand consumes the command NextCommand returned: the caller
// served it, and go-mysql never reads it (9).
func (f *ServerFence) TakeCommand() { f.reader.pending = nil }

// packetReadConn is a net.Conn whose reads come through a packetReader.
type packetReadConn struct {
	net.Conn
	reader *packetReader
}

func (c *packetReadConn) Read(p []byte) (int, error) { return c.reader.Read(p) }

// packetReader hands go-mysql the client's packets one at a time, with
// COM_STMT_EXECUTE packets rewritten and COM_STMT_SEND_LONG_DATA kept by
// the fence.
type packetReader struct {
	r       *bufio.Reader
	conn    net.Conn // for read deadlines
	fence   *ServerFence
	pending []byte // what Read hands out next
	pkt     []byte // the packet as the client sent it
	alt     []byte // a rewritten payload
	framed  []byte // alt as packets
	hdr     [HeaderSize]byte
	// cont: the previous packet was 16 MiB - 1 bytes, so this one
	// continues its payload (never a command of its own).
	cont bool
	// clearDeadline disarms the read timeout startPacket armed (bound
	// once).
	clearDeadline func()
}

func (p *packetReader) Read(b []byte) (int, error) {
	if len(p.pending) == 0 {
		if err := p.next(); err != nil {
			return 0, err
		}
	}
	n := copy(b, p.pending)
	p.pending = p.pending[n:]
	return n, nil
}

func (p *packetReader) next() error {
	for {
		longData, err := p.read()
		if err != nil || !longData {
			return err
		}
		// COM_STMT_SEND_LONG_DATA has no response: go-mysql never sees it
		// and the next packet is read (2).
	}
}

// read reads the next client packet into pending (rewritten if it is a
// COM_STMT_EXECUTE that needs it), or, for COM_STMT_SEND_LONG_DATA, keeps
// the whole command's data and reports longData.
func (p *packetReader) read() (longData bool, err error) {
	hdr := p.hdr[:]
	done, err := p.startPacket()
	if err != nil {
		return false, err
	}
	defer done()
	if _, err := io.ReadFull(p.r, hdr); err != nil {
		return false, err
	}
	size := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
	if !p.cont && size > p.fence.long.Limit() {
		return false, p.refuse(size, hdr[3])
	}
	if cap(p.pkt) < HeaderSize+size || cap(p.pkt) > 1<<20 && HeaderSize+size <= 1<<20 {
		p.pkt = make([]byte, HeaderSize+size)
	}
	p.pkt = p.pkt[:HeaderSize+size] // readRest appends to it
	pkt := p.pkt
	copy(pkt, hdr)
	if _, err := io.ReadFull(p.r, pkt[HeaderSize:]); err != nil {
		return false, err
	}
	command := !p.cont && hdr[3] == 0
	p.cont = size == MaxPayload
	long := &p.fence.long
	if command && size == 0 {
		// An empty command packet: go-mysql reads its command byte
		// without checking (a panic, found by FuzzCommand). It becomes
		// COM_SLEEP, which MySQL answers as an unknown command (1047).
		p.pending = append(pkt[:0], 1, 0, 0, 0, mysql.COM_SLEEP)
		return false, nil
	}
	if p.cont && !(command && pkt[4] == mysql.COM_STMT_SEND_LONG_DATA) {
		// A command of several packets is read whole before go-mysql sees
		// any of it: past max_allowed_packet it is refused (8).
		return false, p.readRest()
	}
	if command && size > 0 && pkt[4] == mysql.COM_STMT_SEND_LONG_DATA {
		payload := pkt[5:]
		if p.cont {
			// A chunk of 16 MiB or more comes in several packets.
			payload = append([]byte(nil), payload...)
			for p.cont {
				part, err := p.continuation()
				if err != nil {
					return false, err
				}
				// Past the limit the rest is read and dropped: Add only
				// needs to see that the data is too large.
				if len(payload) <= long.Limit()+6 {
					payload = append(payload, part...)
				}
			}
		}
		long.Add(payload)
		return true, nil
	}
	if command && size > 0 && size < MaxPayload {
		switch pkt[4] {
		case mysql.COM_STMT_RESET:
			if size >= 5 {
				long.Drop(binary.LittleEndian.Uint32(pkt[5:9]))
			}
		case mysql.COM_STMT_EXECUTE:
			out, ok := p.fence.rewrite(p.alt[:0], pkt[4:])
			if ok {
				p.alt = out
				p.framed = AppendPackets(p.framed[:0], out, hdr[3])
				p.pending = p.framed
				p.fence.extraPackets = uint8(len(out) / MaxPayload)
				return false, nil
			}
		}
	}
	p.pending = pkt
	return false, nil
}

// continuation reads the next packet of a multi-packet payload and
// returns its body (valid until the next read).
func (p *packetReader) continuation() ([]byte, error) {
	hdr := p.hdr[:]
	if _, err := io.ReadFull(p.r, hdr); err != nil {
		return nil, err
	}
	size := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
	p.cont = size == MaxPayload
	if cap(p.pkt) < size {
		p.pkt = make([]byte, size)
	}
	body := p.pkt[:size]
	if _, err := io.ReadFull(p.r, body); err != nil {
		return nil, err
	}
	return body, nil
}

// BufferedConn batches the packets of one response into few writes (6):
// go-mysql writes every packet separately, which would cost a syscall per
// row. It is unbuffered during the handshake (whose round trips need each
// packet sent at once) and buffered after Buffer, flushed after every
// command.
type BufferedConn struct {
	net.Conn
	w        *bufio.Writer
	buffered bool
	greeted  bool // the first packet, the greeting, went out (7)
}

// NewBufferedConn wraps c, unbuffered until Buffer.
func NewBufferedConn(c net.Conn) *BufferedConn {
	return &BufferedConn{Conn: c, w: bufio.NewWriterSize(c, 32*1024)}
}

// Buffer starts batching writes (after the handshake).
func (c *BufferedConn) Buffer() { c.buffered = true }

func (c *BufferedConn) Write(p []byte) (int, error) {
	if !c.greeted {
		c.greeted = true
		return c.Conn.Write(advertiseFoundRows(p))
	}
	if !c.buffered {
		return c.Conn.Write(p)
	}
	return c.w.Write(p)
}

// advertiseFoundRows returns the greeting (header and HandshakeV10
// payload) with CLIENT_FOUND_ROWS set in its capability flags (7):
//
//	protocol version      [1]  10
//	server version        NUL-terminated string
//	connection id         [4]
//	auth-plugin-data-1    [8]
//	filler                [1]
//	capability flags low  [2]
//
// Anything else is returned as it is.
func advertiseFoundRows(p []byte) []byte {
	if len(p) < HeaderSize+1 || p[HeaderSize] != 10 {
		return p
	}
	nul := bytes.IndexByte(p[HeaderSize+1:], 0)
	if nul < 0 {
		return p
	}
	at := HeaderSize + 1 + nul + 1 + 4 + 8 + 1
	if at+2 > len(p) {
		return p
	}
	out := append([]byte(nil), p...)
	out[at] |= byte(mysql.CLIENT_FOUND_ROWS)
	return out
}

// Flush sends what the current response has buffered.
func (c *BufferedConn) Flush() error { return c.w.Flush() }
