package wire

// AppendPackets appends payload as packets from sequence number seq:
// MaxPayload bytes each, then a shorter one (empty if need be), each with
// its header: payload length [24 bit] sequence [8 bit].
func AppendPackets(dst, payload []byte, seq byte) []byte {
	for {
		n := min(len(payload), MaxPayload)
		dst = append(dst, byte(n), byte(n>>8), byte(n>>16), seq)
		dst = append(dst, payload[:n]...)
		payload = payload[n:]
		seq++
		if n < MaxPayload {
			return dst
		}
	}
}
