package wire

// WriteRowPayload forwards one result row packet's payload as a shard sent
// it — a text row or a binary row (0x00, NULL bitmap, values) — without
// decoding it: the client's column definitions are the shard's own, so its
// bytes mean the same to the client. Only the packet header is new (the
// connection numbers it in the client's sequence). payload may alias the
// shard connection's read buffer: it is copied before this returns.
func (w *Writer) WriteRowPayload(payload []byte) error {
	return w.Write(append(w.Start(), payload...))
}
