package wire

// The connection-phase packets the gateway's own authentication exchange
// (gateway/auth.go) reads and writes besides go-mysql's.

// HeaderAuthMoreData starts an AuthMoreData packet.
const HeaderAuthMoreData = 0x01

// The AuthMoreData bytes of caching_sha2_password.
const (
	// SHA2FastAuthOK: the scramble matched the cached digest; OK follows.
	SHA2FastAuthOK = 0x03
	// SHA2FullAuth: the client must send its password, over TLS in
	// clear, else RSA-encrypted (asking for the key with SHA2PublicKeyRequest).
	SHA2FullAuth = 0x04
	// SHA2PublicKeyRequest is the client's request for the RSA public key.
	SHA2PublicKeyRequest = 0x02
)

// AppendAuthMoreData appends an AuthMoreData packet: [0x01] data.
func AppendAuthMoreData(dst []byte, data ...byte) []byte {
	dst = append(dst, HeaderAuthMoreData)
	return append(dst, data...)
}

// GreetingSalt returns the 20-byte scramble of a server greeting (Initial
// Handshake Packet v10, with its 4-byte header): auth-plugin-data part 1
// [8 bytes] after protocol version [1], server version [NUL-terminated]
// and connection id [4]; part 2 [12 bytes] after filler [1], capability
// low [2], charset [1], status [2], capability high [2], auth data length
// [1] and reserved [10]. nil if pkt is not such a packet.
func GreetingSalt(pkt []byte) []byte {
	if len(pkt) < HeaderSize+1 || pkt[HeaderSize] != 10 {
		return nil
	}
	p := pkt[HeaderSize+1:]
	end := -1
	for i, b := range p {
		if b == 0 {
			end = i
			break
		}
	}
	if end < 0 {
		return nil
	}
	p = p[end+1:]
	const part1, between, part2 = 8, 1 + 2 + 1 + 2 + 2 + 1 + 10, 12
	if len(p) < 4+part1+between+part2 {
		return nil
	}
	salt := make([]byte, 0, part1+part2)
	salt = append(salt, p[4:4+part1]...)
	return append(salt, p[4+part1+between:4+part1+between+part2]...)
}

// AuthSwitchSalt returns the salt of an Auth Switch Request packet (with
// its 4-byte header: [0xfe] plugin name[NUL] salt[20] [NUL]); nil if pkt
// is not one.
func AuthSwitchSalt(pkt []byte) []byte {
	if len(pkt) < HeaderSize+1 || pkt[HeaderSize] != HeaderEOF {
		return nil
	}
	p := pkt[HeaderSize+1:]
	for i, b := range p {
		if b == 0 {
			if rest := p[i+1:]; len(rest) >= 20 {
				return append([]byte(nil), rest[:20]...)
			}
			return nil
		}
	}
	return nil
}
