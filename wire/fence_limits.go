package wire

import (
	"io"
	"slices"
	"time"
)

// ComRefusedTooLarge is the command the fence hands go-mysql in place of
// a client command longer than max_allowed_packet (gomysql_fence.go, 8):
// no MySQL or MariaDB command has this number, so go-mysql passes it to
// the handler's HandleOtherCommand, which answers 1153 after setting the
// sequence number to RefusedSequence.
const ComRefusedTooLarge byte = 0xf0

// SetNetReadTimeout bounds the wait for the rest of a packet once its
// first byte has come (0: no bound).
func (f *ServerFence) SetNetReadTimeout(d time.Duration) { f.readTimeout = d }

// RefusedSequence is the sequence number of the answer to the last
// command replaced by ComRefusedTooLarge: one past the client's last
// packet.
func (f *ServerFence) RefusedSequence() uint8 { return f.refusedSeq }

// startPacket waits, without a deadline of its own, for the first byte
// of the next packet (the wait between commands is the session's to
// bound), then arms the read timeout for the rest; done disarms it. A
// packet already whole in the read buffer (a small command arrives in one
// segment) needs no timeout: arming and disarming one is two timer
// updates per command, on the path of every query.
func (p *packetReader) startPacket() (done func(), err error) {
	if _, err := p.r.Peek(1); err != nil {
		return nil, err
	}
	d := p.fence.readTimeout
	if d <= 0 || p.bufferedWhole() {
		return noDeadline, nil
	}
	_ = p.conn.SetReadDeadline(time.Now().Add(d))
	if p.clearDeadline == nil {
		p.clearDeadline = func() { _ = p.conn.SetReadDeadline(time.Time{}) }
	}
	return p.clearDeadline, nil
}

// bufferedWhole tells whether the next packet, header and payload, is in
// the read buffer already (and continues no other).
func (p *packetReader) bufferedWhole() bool {
	if p.cont || p.r.Buffered() < HeaderSize {
		return false
	}
	hdr, err := p.r.Peek(HeaderSize)
	if err != nil {
		return false
	}
	size := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
	return size < MaxPayload && p.r.Buffered() >= HeaderSize+size
}

func noDeadline() {}

// readRest reads the continuation packets of the command in p.pkt (its
// first packet) into p.pkt, headers included, and makes it pending; past
// the limit it drains them and pends the refusal instead.
func (p *packetReader) readRest() error {
	limit := p.fence.long.Limit()
	total := len(p.pkt) - HeaderSize
	for p.cont {
		hdr := p.hdr[:]
		if _, err := io.ReadFull(p.r, hdr); err != nil {
			return err
		}
		size := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
		p.cont = size == MaxPayload
		total += size
		if total > limit {
			if _, err := p.r.Discard(size); err != nil {
				return err
			}
			p.pkt = nil // let the partial command go
			return p.drain(hdr[3])
		}
		p.pkt = append(p.pkt, hdr...)
		start := len(p.pkt)
		p.pkt = slices.Grow(p.pkt, size)[:start+size]
		if _, err := io.ReadFull(p.r, p.pkt[start:]); err != nil {
			return err
		}
		if err := p.extendDeadline(); err != nil {
			return err
		}
	}
	p.pending = p.pkt
	return nil
}

// refuse drains a command whose first packet announces size bytes (over
// the limit) and pends the refusal.
func (p *packetReader) refuse(size int, seq byte) error {
	if _, err := p.r.Discard(size); err != nil {
		return err
	}
	p.cont = size == MaxPayload
	return p.drain(seq)
}

// drain discards the rest of a refused command (its packets while
// p.cont), then hands go-mysql ComRefusedTooLarge in its place.
func (p *packetReader) drain(seq byte) error {
	for p.cont {
		if err := p.extendDeadline(); err != nil {
			return err
		}
		hdr := p.hdr[:]
		if _, err := io.ReadFull(p.r, hdr); err != nil {
			return err
		}
		size := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
		seq = hdr[3]
		p.cont = size == MaxPayload
		if _, err := p.r.Discard(size); err != nil {
			return err
		}
	}
	p.fence.refusedSeq = seq + 1
	p.alt = append(p.alt[:0], 1, 0, 0, 0, ComRefusedTooLarge)
	p.pending = p.alt
	return nil
}

// extendDeadline gives the next packet of a long command its own read
// timeout: the timeout bounds a stall, not a large upload.
func (p *packetReader) extendDeadline() error {
	if d := p.fence.readTimeout; d > 0 {
		return p.conn.SetReadDeadline(time.Now().Add(d))
	}
	return nil
}
