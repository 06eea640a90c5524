package wire

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// packetCodecCall matches go-mysql's packet encoders and decoders, and
// byte-order reads and writes, which only this package may use on
// protocol data.
var packetCodecCall = regexp.MustCompile(`mysql\.(AppendLengthEncodedInteger|LengthEncodedInt|LengthEncodedString|PutLengthEncoded\w*|SkipLengthEncodedString|FormatBinary\w*)\(|\.Dump\(\)|binary\.LittleEndian\.`)

// allowedCodecUse lists the files outside wire that may match
// packetCodecCall for data that is not a packet, with the reason.
var allowedCodecUse = map[string]string{
	"vindex/xxhash.go": "xxhash keyspace ids are little-endian by Vitess's definition",
}

// TestNoPacketCodecOutsideWire: no package outside wire encodes or
// decodes packets (tests excepted: they build packets to feed the code).
func TestNoPacketCodecOutsideWire(t *testing.T) {
	root := ".."
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel != "." && (rel == "wire" || strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		rel = filepath.ToSlash(rel)
		if m := packetCodecCall.Find(src); m != nil {
			if _, ok := allowedCodecUse[rel]; !ok {
				t.Errorf("%s uses %s: packet encoding and decoding belong in package wire", rel, m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("read %d Go files under %s: not the repository?", files, root)
	}
}
