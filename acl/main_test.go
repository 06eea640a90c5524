package acl

import (
	"os"
	"testing"

	"github.com/shardgate/shardgate/internal/leakcheck"
)

func TestMain(m *testing.M) { os.Exit(leakcheck.Main(m.Run)) }
