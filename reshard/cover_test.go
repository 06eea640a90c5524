package reshard

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckCover(t *testing.T) {
	for _, c := range []struct {
		sources, targets string
		err              string // "" for none
	}{
		{"-80", "-40,40-80", ""},
		{"-80,80-", "-40,40-80,80-c0,c0-", ""},
		{"40-80,80-c0", "40-c0", ""},
		{"80-c0,40-80", "40-c0", ""},
		{"-", "-80,80-", ""},
		{"-80", "-40,40-90", "must cover the same key range"},
		{"-80", "-40,50-80", "gap between 00-40... "},
		{"-80", "-40,30-80", "overlap"},
		{"-80", "-80", "both a source and a target"},
		{"-40,80-", "-c0", "gap"},
		{"-80", "", "no shards"},
		{"-80", "-4x", "invalid key range"},
	} {
		err := checkCover(split(c.sources), split(c.targets))
		switch {
		case c.err == "" && err != nil:
			t.Errorf("checkCover(%s → %s): got %v, want nil", c.sources, c.targets, err)
		case c.err != "" && err == nil:
			t.Errorf("checkCover(%s → %s): got nil, want an error", c.sources, c.targets)
		case c.err != "" && !strings.Contains(err.Error(), strings.Fields(c.err)[0]):
			t.Errorf("checkCover(%s → %s): got %v, want it to say %q", c.sources, c.targets, err, c.err)
		case err != nil && !errors.Is(err, ErrInvalid) && !strings.Contains(err.Error(), "invalid key range"):
			t.Errorf("checkCover(%s → %s): got %v, want ErrInvalid", c.sources, c.targets, err)
		}
	}
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
