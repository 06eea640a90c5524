package wire

import (
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/server"
)

// Writer writes the server's packets to one client connection. It keeps
// one buffer for all of them; every packet starts with HeaderSize reserved
// bytes, which the connection's WritePacket fills in (splitting payloads
// of 16 MiB or more).
//
// It is used from the connection's goroutine only.
type Writer struct {
	Conn PacketConn
	buf  []byte
}

// PacketConn is what the writer needs of go-mysql's *server.Conn (a
// benchmark writes to a fake one).
type PacketConn interface {
	WritePacket(data []byte) error
	HasCapability(capability uint32) bool
}

var _ PacketConn = (*server.Conn)(nil)

// maxKeptBuffer is the largest buffer the writer keeps between packets.
const maxKeptBuffer = 1 << 20

// Start returns the writer's buffer, emptied to the reserved header, for a
// packet to be appended to and handed to Write.
func (w *Writer) Start() []byte {
	if cap(w.buf) < HeaderSize {
		w.buf = make([]byte, HeaderSize, 1024)
	}
	return w.buf[:HeaderSize]
}

// Write sends one packet built from Start.
func (w *Writer) Write(data []byte) error {
	err := w.Conn.WritePacket(data)
	// Keep the (possibly grown) buffer for the next packet, but do not pin
	// huge buffers forever.
	if cap(data) <= maxKeptBuffer {
		w.buf = data[:HeaderSize]
	} else {
		w.buf = nil
	}
	return err
}

// WriteOK sends an OK packet (AppendOK).
func (w *Writer) WriteOK(affected, insertID uint64, status, warnings uint16, info string) error {
	ok := OK{AffectedRows: affected, InsertID: insertID, Status: status, Warnings: warnings}
	return w.Write(AppendOK(w.Start(), ok, info, w.Conn.HasCapability(mysql.CLIENT_SESSION_TRACK)))
}

// WriteErr sends an ERR packet (AppendERR).
func (w *Writer) WriteErr(e *mysql.MyError) error {
	return w.Write(AppendERR(w.Start(), e))
}

// WriteEOF sends an EOF packet (AppendEOF).
func (w *Writer) WriteEOF(status, warnings uint16) error {
	return w.Write(AppendEOF(w.Start(), status, warnings))
}

// WriteFields sends the column count, one column definition per field (the
// backend's own bytes when it sent them) and the EOF that ends them.
func (w *Writer) WriteFields(fields []*mysql.Field, status uint16) error {
	if err := w.Write(AppendColumnCount(w.Start(), len(fields))); err != nil {
		return err
	}
	for _, f := range fields {
		if err := w.Write(AppendColumn(w.Start(), f)); err != nil {
			return err
		}
	}
	return w.WriteEOF(status, 0)
}

// WriteTextRow sends one text-protocol row (AppendTextRow).
func (w *Writer) WriteTextRow(row [][]byte) error {
	return w.Write(AppendTextRow(w.Start(), row))
}

// WriteBinaryRow sends one binary-protocol row (COM_STMT_EXECUTE),
// converted from the text values the shards sent (AppendBinaryRow).
func (w *Writer) WriteBinaryRow(fields []*mysql.Field, row [][]byte) error {
	data, err := AppendBinaryRow(w.Start(), fields, row)
	if err != nil {
		return err
	}
	return w.Write(data)
}

// WriteAuthSwitch sends an auth switch request (AppendAuthSwitch).
func (w *Writer) WriteAuthSwitch(plugin string, salt []byte) error {
	return w.Write(AppendAuthSwitch(w.Start(), plugin, salt))
}
