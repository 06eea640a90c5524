package gateway

import (
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/server"
)

// packetWriter writes MySQL protocol packets for one client connection.
// Every buffer starts with 4 reserved bytes for the packet header, which
// go-mysql's WritePacket fills in (and splits payloads over 16 MiB).
type packetWriter struct {
	conn packetConn
	buf  []byte
}

// packetConn is what the writer needs of go-mysql's *server.Conn (a
// benchmark writes to a fake one).
type packetConn interface {
	WritePacket(data []byte) error
	HasCapability(capability uint32) bool
}

var _ packetConn = (*server.Conn)(nil)

// status is the server status word sent in OK and EOF packets
// (SERVER_STATUS_AUTOCOMMIT, SERVER_STATUS_IN_TRANS, SERVER_MORE_RESULTS_EXISTS).
func (w *packetWriter) start() []byte {
	if cap(w.buf) < 4 {
		w.buf = make([]byte, 4, 1024)
	}
	return w.buf[:4]
}

func (w *packetWriter) write(data []byte) error {
	err := w.conn.WritePacket(data)
	// Keep the (possibly grown) buffer for the next packet, but do not pin
	// huge buffers forever.
	if cap(data) <= 1<<20 {
		w.buf = data[:4]
	} else {
		w.buf = nil
	}
	return err
}

// writeOK: OK packet [0x00] affected_rows [lenenc] last_insert_id [lenenc]
// status_flags [16 bit] warnings [16 bit].
func (w *packetWriter) writeOK(affected, insertID uint64, status, warnings uint16, info string) error {
	data := w.start()
	data = append(data, mysql.OK_HEADER)
	data = mysql.AppendLengthEncodedInteger(data, affected)
	data = mysql.AppendLengthEncodedInteger(data, insertID)
	data = append(data, byte(status), byte(status>>8), byte(warnings), byte(warnings>>8))
	if w.conn.HasCapability(mysql.CLIENT_SESSION_TRACK) {
		data = mysql.AppendLengthEncodedInteger(data, uint64(len(info)))
	}
	data = append(data, info...)
	return w.write(data)
}

// writeErr: ERR packet [0xff] error_code [16 bit] '#' sql_state [5] message.
func (w *packetWriter) writeErr(e *mysql.MyError) error {
	data := w.start()
	data = append(data, mysql.ERR_HEADER, byte(e.Code), byte(e.Code>>8), '#')
	state := e.State
	if len(state) != 5 {
		state = "HY000"
	}
	data = append(data, state...)
	data = append(data, e.Message...)
	return w.write(data)
}

// writeEOF: EOF packet [0xfe] warnings [16 bit] status_flags [16 bit].
func (w *packetWriter) writeEOF(status, warnings uint16) error {
	data := w.start()
	data = append(data, mysql.EOF_HEADER, byte(warnings), byte(warnings>>8), byte(status), byte(status>>8))
	return w.write(data)
}

// writeFields sends the column count, one column definition per field (the
// backend's own bytes when it sent them) and the EOF that ends them.
func (w *packetWriter) writeFields(fields []*mysql.Field, status uint16) error {
	data := w.start()
	data = mysql.AppendLengthEncodedInteger(data, uint64(len(fields)))
	if err := w.write(data); err != nil {
		return err
	}
	for _, f := range fields {
		data = w.start()
		data = append(data, f.Dump()...)
		if err := w.write(data); err != nil {
			return err
		}
	}
	return w.writeEOF(status, 0)
}

// writeTextRow: one text-protocol row, each value a length-encoded string
// or 0xfb for NULL.
func (w *packetWriter) writeTextRow(row [][]byte) error {
	return w.write(appendTextRow(w.start(), row))
}

func appendTextRow(data []byte, row [][]byte) []byte {
	for _, v := range row {
		if v == nil {
			data = append(data, 0xfb)
			continue
		}
		data = mysql.AppendLengthEncodedInteger(data, uint64(len(v)))
		data = append(data, v...)
	}
	return data
}

// writeBinaryRow: one binary-protocol row (COM_STMT_EXECUTE), converted from
// the text values the shards sent.
func (w *packetWriter) writeBinaryRow(fields []*mysql.Field, row [][]byte) error {
	data, err := appendBinaryRow(w.start(), fields, row)
	if err != nil {
		return err
	}
	return w.write(data)
}
