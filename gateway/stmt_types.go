package gateway

import (
	"bufio"
	"encoding/binary"
	"io"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/stmt"
)

// stmtTypes restores what go-mysql v1.16 drops. COM_STMT_EXECUTE:
//
//	[0x17] stmt_id [32 bit] flags [8 bit] iteration_count [32 bit]
//	null_bitmap [(params+7)/8] new_params_bound_flag [8 bit]
//	(if 1) param types [16 bit each] param values
//
// A client sends the parameter types only when they change (libmariadb:
// on the first execute after binding) and the values every time; with
// the flag 0, go-mysql reads no values at all and hands the handler nil
// arguments, so `WHERE id = ?` silently ran as `id = NULL`. The gateway
// remembers each statement's last types and rewrites such packets to
// carry them (flag 1) before go-mysql reads them.
//
// It is used from the connection's goroutine only.
type stmtTypes struct {
	// nextID mirrors go-mysql's statement ids: it numbers every
	// COM_STMT_PREPARE from 1, successful or not.
	nextID uint32
	params map[uint32]int    // parameter count per prepared statement
	types  map[uint32][]byte // last types sent per statement
	// floats holds the statements whose result has a FLOAT column
	// (exact_float.go), found once at prepare time.
	floats map[uint32]bool
	// long keeps COM_STMT_SEND_LONG_DATA chunks until the execute
	// (long_data.go).
	long longData
	// extraPackets counts the packets a rewritten COM_STMT_EXECUTE gained
	// over the one the client sent (a payload grown past 16 MiB): go-mysql
	// counted them in its sequence number, the client did not, so the
	// handler takes them off before the response (takeExtraPackets).
	extraPackets uint8
}

// takeExtraPackets returns, once, the packets the last rewritten
// COM_STMT_EXECUTE gained.
func (t *stmtTypes) takeExtraPackets() uint8 {
	n := t.extraPackets
	t.extraPackets = 0
	return n
}

func (t *stmtTypes) prepared(id uint32, params int, floatResult bool) {
	if t.params == nil {
		t.params, t.types, t.floats = map[uint32]int{}, map[uint32][]byte{}, map[uint32]bool{}
	}
	t.params[id] = params
	if floatResult {
		t.floats[id] = true
	}
}

func (t *stmtTypes) closed(id uint32) {
	delete(t.params, id)
	delete(t.types, id)
	delete(t.floats, id)
	t.long.drop(id)
}

// floatResult tells whether the statement's result has a FLOAT column.
func (t *stmtTypes) floatResult(context any) bool {
	ps, ok := context.(*stmt.PreparedStmt)
	return ok && t.floats[ps.ID]
}

// rewrite looks at a COM_STMT_EXECUTE payload: it remembers the types it
// carries, or appends to dst the payload with the remembered types filled
// in (ok true) when it carries none.
func (t *stmtTypes) rewrite(dst, payload []byte) (out []byte, ok bool) {
	if len(payload) < 10 {
		return dst, false
	}
	id := binary.LittleEndian.Uint32(payload[1:5])
	n := t.params[id]
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
			t.types[id] = append(t.types[id][:0], payload[pos+1:pos+1+2*n]...)
		}
		if out, ok := t.long.inline(dst, payload, id, n, t.types[id]); ok {
			delete(t.long.data, id)
			return out, true
		}
	case 0:
		if out, ok := t.long.inline(dst, payload, id, n, t.types[id]); ok {
			delete(t.long.data, id)
			return out, true
		}
		types := t.types[id]
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

// framePackets appends payload as MySQL packets from sequence number seq:
// 16 MiB - 1 bytes each, then a shorter one (empty if need be).
func framePackets(dst, payload []byte, seq byte) []byte {
	for {
		n := min(len(payload), 0xffffff)
		dst = append(dst, byte(n), byte(n>>8), byte(n>>16), seq)
		dst = append(dst, payload[:n]...)
		payload = payload[n:]
		seq++
		if n < 0xffffff {
			return dst
		}
	}
}

// packetReader hands go-mysql the client's packets one at a time, with
// COM_STMT_EXECUTE packets rewritten by stmtTypes.
type packetReader struct {
	r       *bufio.Reader
	types   *stmtTypes
	pending []byte // what Read hands out next
	pkt     []byte // the packet as the client sent it
	alt     []byte // a rewritten payload
	framed  []byte // alt as packets
	hdr     [4]byte
	// cont: the previous packet was 16 MiB - 1 bytes, so this one
	// continues its payload (never a command of its own).
	cont bool
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
		// and the next packet is read (long_data.go).
	}
}

// read reads the next client packet into pending (rewritten if it is a
// COM_STMT_EXECUTE that needs it), or, for COM_STMT_SEND_LONG_DATA, keeps
// the whole command's data and reports longData.
func (p *packetReader) read() (longData bool, err error) {
	hdr := p.hdr[:]
	if _, err := io.ReadFull(p.r, hdr); err != nil {
		return false, err
	}
	size := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
	if cap(p.pkt) < 4+size || cap(p.pkt) > 1<<20 && 4+size <= 1<<20 {
		p.pkt = make([]byte, 4+size)
	}
	pkt := p.pkt[:4+size]
	copy(pkt, hdr)
	if _, err := io.ReadFull(p.r, pkt[4:]); err != nil {
		return false, err
	}
	command := !p.cont && hdr[3] == 0
	p.cont = size == 0xffffff
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
				// Past the limit the rest is read and dropped: add only
				// needs to see that the data is too large.
				if len(payload) <= p.types.long.limit()+6 {
					payload = append(payload, part...)
				}
			}
		}
		p.types.long.add(payload)
		return true, nil
	}
	if command && size > 0 && size < 0xffffff {
		switch pkt[4] {
		case mysql.COM_STMT_RESET:
			if size >= 5 {
				p.types.long.drop(binary.LittleEndian.Uint32(pkt[5:9]))
			}
		case mysql.COM_STMT_EXECUTE:
			out, ok := p.types.rewrite(p.alt[:0], pkt[4:])
			if ok {
				p.alt = out
				p.framed = framePackets(p.framed[:0], out, hdr[3])
				p.pending = p.framed
				p.types.extraPackets = uint8(len(out) / 0xffffff)
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
	p.cont = size == 0xffffff
	if cap(p.pkt) < size {
		p.pkt = make([]byte, size)
	}
	body := p.pkt[:size]
	if _, err := io.ReadFull(p.r, body); err != nil {
		return nil, err
	}
	return body, nil
}
