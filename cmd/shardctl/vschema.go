package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/shardgate/shardgate/topo/vschema"
)

func vschemaCommands() []*command {
	var keyspace, file string
	needKeyspace := func() error {
		if keyspace == "" {
			return usageErrorf("--keyspace is required")
		}
		return nil
	}
	return []*command{
		{
			group: "vschema", verb: "get", args: "--keyspace KS",
			summary: "print a keyspace's vschema as JSON",
			flags: func(fs *flag.FlagSet) {
				fs.StringVar(&keyspace, "keyspace", "", "the keyspace (required)")
			},
			run: func(ctx context.Context, e *env, args []string) error {
				if err := errors.Join(wantArgs(args), needKeyspace()); err != nil {
					return err
				}
				s, err := e.Store(ctx)
				if err != nil {
					return err
				}
				vs, err := s.GetVSchema(ctx, keyspace)
				if err != nil {
					return err
				}
				b, err := json.MarshalIndent(vs, "", "  ")
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(e.stdout, "%s\n", b)
				return err
			},
		},
		{
			group: "vschema", verb: "apply", args: "--keyspace KS --file FILE",
			summary: "validate a vschema JSON file and save it as the keyspace's vschema",
			flags: func(fs *flag.FlagSet) {
				fs.StringVar(&keyspace, "keyspace", "", "the keyspace (required)")
				fs.StringVar(&file, "file", "", "the vschema JSON file (required)")
			},
			run: func(ctx context.Context, e *env, args []string) error {
				if err := errors.Join(wantArgs(args), needKeyspace()); err != nil {
					return err
				}
				if file == "" {
					return usageErrorf("--file is required")
				}
				data, err := os.ReadFile(file)
				if err != nil {
					return err
				}
				vs, err := vschema.Parse(data)
				if err != nil {
					return fmt.Errorf("%s: %w", file, explain(err))
				}
				s, err := e.Store(ctx)
				if err != nil {
					return err
				}
				if err := s.SaveVSchema(ctx, keyspace, vs); err != nil {
					return fmt.Errorf("keyspace %q: %w", keyspace, explain(err))
				}
				fmt.Fprintf(e.stdout, "saved the vschema of keyspace %s (%d tables, %d vindexes)\n", keyspace, len(vs.Tables), len(vs.Vindexes))
				return nil
			},
		},
	}
}

// explain puts each problem of a vschema validation error on a line of
// its own.
func explain(err error) error {
	var ve *vschema.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) < 2 {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "invalid vschema, %d problems:", len(ve.Problems))
	for _, p := range ve.Problems {
		fmt.Fprintf(&b, "\n  - %v", p)
	}
	return errors.New(b.String())
}
