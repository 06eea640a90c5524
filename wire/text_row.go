package wire

// ParseTextRow splits a text-protocol row into its values, each a
// length-encoded string or 0xfb for NULL. The values alias pkt, capacity
// capped at their length. len(row) is the column count.
func ParseTextRow(pkt []byte, row [][]byte) error {
	pos := 0
	for i := range row {
		if pos >= len(pkt) {
			return ErrMalformed
		}
		if pkt[pos] == HeaderLocalInfile {
			row[i] = nil
			pos++
			continue
		}
		n, p, ok := ReadLenEncInt(pkt, pos)
		if !ok || n > uint64(len(pkt)-p) {
			return ErrMalformed
		}
		end := p + int(n)
		row[i] = pkt[p:end:end]
		pos = end
	}
	if pos != len(pkt) {
		return ErrMalformed
	}
	return nil
}

// AppendTextRow appends one text-protocol row: each value a
// length-encoded string, or 0xfb for NULL.
func AppendTextRow(data []byte, row [][]byte) []byte {
	for _, v := range row {
		if v == nil {
			data = append(data, HeaderLocalInfile)
			continue
		}
		data = AppendLenEncInt(data, uint64(len(v)))
		data = append(data, v...)
	}
	return data
}
