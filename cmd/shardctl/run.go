package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shardgate/shardgate/topo"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the command failed
	exitUsage = 2 // the command line is wrong
	// exitDiffers: the command ran and found a difference (`reshard
	// vdiff`); distinct from exitUsage so a script can tell them apart.
	exitDiffers = 3
)

// exitCodeError ends a command that printed its result with a non-zero
// exit code of its own.
type exitCodeError struct {
	code int
	msg  string
}

func (e *exitCodeError) Error() string { return e.msg }

// usageError is an error in the command line; run prints the command's
// usage with it and exits with exitUsage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// command is one "group verb" of shardctl.
type command struct {
	group, verb string
	args        string // synopsis of the positional arguments and flags
	summary     string
	// flags registers the command's own flags on fs; it may be nil.
	flags func(fs *flag.FlagSet)
	// run runs the command with its positional arguments.
	run func(ctx context.Context, e *env, args []string) error
}

// name is "group verb", or the group alone for a one-word command.
func (c *command) name() string { return strings.TrimSpace(c.group + " " + c.verb) }

// env is what a command runs with: the output streams and the topology,
// opened on first use.
type env struct {
	stdout, stderr io.Writer
	topo           topoFlags
	store          *topo.Store
}

// topoFlags are the global flags.
type topoFlags struct {
	endpoints string
	root      string
}

// register adds the flags to fs. Their defaults are the values f already
// holds, so registering again on a command's flag set keeps what the
// global flags said; on first registration they are $SHARDGATE_TOPO (or
// topo.DefaultClientAddr) and topo.DefaultRoot.
func (f *topoFlags) register(fs *flag.FlagSet) {
	if f.endpoints == "" {
		f.endpoints = cmp.Or(os.Getenv("SHARDGATE_TOPO"), topo.DefaultClientAddr)
	}
	if f.root == "" {
		f.root = topo.DefaultRoot
	}
	fs.StringVar(&f.endpoints, "topo-endpoints", f.endpoints, "comma-separated etcd endpoints; the default comes from $SHARDGATE_TOPO if set")
	fs.StringVar(&f.root, "topo-root", f.root, "key prefix of the topology in etcd")
}

// Store returns the topology store, opening it on first use.
func (e *env) Store(ctx context.Context) (*topo.Store, error) {
	if e.store != nil {
		return e.store, nil
	}
	var endpoints []string
	for ep := range strings.SplitSeq(e.topo.endpoints, ",") {
		if ep = strings.TrimSpace(ep); ep != "" {
			endpoints = append(endpoints, ep)
		}
	}
	s, err := topo.Open(ctx, topo.Config{Endpoints: endpoints, Root: e.topo.root, DialTimeout: 5 * time.Second})
	if err != nil {
		return nil, err
	}
	e.store = s
	return s, nil
}

// table starts aligned, tab-separated output on stdout; call Flush.
func (e *env) table(header ...string) *tabwriter.Writer {
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, strings.Join(header, "\t"))
	return w
}

func commands() []*command {
	var cmds []*command
	cmds = append(cmds, keyspaceCommands()...)
	cmds = append(cmds, shardCommands()...)
	cmds = append(cmds, tabletCommands()...)
	cmds = append(cmds, vschemaCommands()...)
	cmds = append(cmds, explainCommand())
	cmds = append(cmds, twopcCommands()...)
	cmds = append(cmds, recoveriesCommands()...)
	cmds = append(cmds, reparentCommands()...)
	cmds = append(cmds, reshardCommands()...)
	cmds = append(cmds, userCommands()...)
	cmds = append(cmds, grantCommands()...)
	cmds = append(cmds, movetablesCommands()...)
	return cmds
}

// run is shardctl without the process: it parses args, runs the command
// and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr}
	defer func() {
		if e.store != nil {
			e.store.Close()
		}
	}()
	cmds := commands()

	global := flag.NewFlagSet("shardctl", flag.ContinueOnError)
	global.SetOutput(io.Discard)
	e.topo.register(global)
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout, global, cmds)
			return exitOK
		}
		fmt.Fprintf(stderr, "shardctl: %v\n", err)
		usage(stderr, global, cmds)
		return exitUsage
	}
	rest := global.Args()
	if len(rest) == 0 || rest[0] == "help" {
		w, code := stdout, exitOK
		if len(rest) == 0 {
			w, code = stderr, exitUsage
		}
		usage(w, global, cmds)
		return code
	}
	// A command may be one word ("explain"): its verb is empty.
	var cmd *command
	argStart := 2
	for _, c := range cmds {
		if c.verb == "" && c.group == rest[0] {
			cmd, argStart = c, 1
		}
	}
	if cmd == nil && len(rest) < 2 {
		fmt.Fprintf(stderr, "shardctl: %q needs a command\n", rest[0])
		usage(stderr, global, cmds)
		return exitUsage
	}
	if cmd == nil {
		for _, c := range cmds {
			if c.group == rest[0] && c.verb == rest[1] {
				cmd = c
			}
		}
	}
	if cmd == nil {
		fmt.Fprintf(stderr, "shardctl: unknown command %q\n", rest[0]+" "+rest[1])
		usage(stderr, global, cmds)
		return exitUsage
	}

	fs := flag.NewFlagSet(strings.TrimSpace("shardctl "+cmd.group+" "+cmd.verb), flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	e.topo.register(fs) // the global flags may also follow the command
	if cmd.flags != nil {
		cmd.flags(fs)
	}
	pos, err := parseInterspersed(fs, rest[argStart:])
	if errors.Is(err, flag.ErrHelp) {
		commandUsage(stdout, cmd, fs)
		return exitOK
	}
	if err == nil {
		err = cmd.run(ctx, e, pos)
	}
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, new(*exitCodeError)):
		var ec *exitCodeError
		errors.As(err, &ec)
		fmt.Fprintf(stderr, "shardctl: %s: %v\n", cmd.name(), err)
		return ec.code
	case errors.As(err, new(*usageError)):
		fmt.Fprintf(stderr, "shardctl: %v\n", err)
		commandUsage(stderr, cmd, fs)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "shardctl: %s: %v\n", cmd.name(), err)
		return exitError
	}
}

// parseInterspersed parses flags that may come before, between or after
// the positional arguments, which it returns. Everything after "--" is
// positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos, tail []string
	for i, a := range args {
		if a == "--" {
			args, tail = args[:i], args[i+1:]
			break
		}
	}
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageErrorf("%v", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return append(pos, tail...), nil
		}
		pos = append(pos, args[0]) // Parse stopped at a positional argument
		args = args[1:]
	}
}

// wantArgs checks the number of positional arguments.
func wantArgs(args []string, names ...string) error {
	if len(args) != len(names) {
		if len(names) == 0 {
			return usageErrorf("unexpected arguments %q", args)
		}
		return usageErrorf("want %s, got %q", strings.Join(names, " "), args)
	}
	return nil
}

func usage(w io.Writer, global *flag.FlagSet, cmds []*command) {
	fmt.Fprintln(w, "usage: shardctl [global flags] <command> [flags] [args]")
	fmt.Fprintln(w, "\ncommands:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range cmds {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name()+" "+c.args, c.summary)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nglobal flags (also accepted after the command):")
	global.SetOutput(w)
	global.PrintDefaults()
	global.SetOutput(io.Discard)
}

func commandUsage(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: shardctl %s %s\n  %s\n", c.name(), c.args, c.summary)
	fmt.Fprintln(w, "\nflags:")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}
