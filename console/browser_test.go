package console_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shardgate/shardgate/console"
	"github.com/shardgate/shardgate/gateway"
	"github.com/shardgate/shardgate/gateway/gatewaytest"
	"github.com/shardgate/shardgate/tablet/localcluster"
	"github.com/shardgate/shardgate/topo/vschema"
)

// screenshotPath, when set, is where TestConsoleInBrowser saves its
// screenshot (docs/console.png is made with
// `go test ./console -run TestConsoleInBrowser -console-screenshot ../docs/console.png`).
var screenshotPath = flag.String("console-screenshot", "", "save the browser test's screenshot here")

// chromiumPath finds Debian's chromium (scripts/install-deps.sh installs it).
func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no chromium on PATH: run scripts/install-deps.sh (apt-get install chromium)")
	return ""
}

// TestConsoleInBrowser opens the console of a running cluster in headless
// chromium and checks what an operator would: every shard and every
// tablet alias is listed, a workload's digest appears and its count rises
// without a reload, the VEXPLAIN box explains a query, and the page is
// not blank (screenshot pixel variance).
func TestConsoleInBrowser(t *testing.T) {
	chromium := chromiumPath(t)
	dir := t.TempDir()
	env, err := gatewaytest.Start(context.Background(), localcluster.Config{
		Dir: filepath.Join(dir, "cluster"),
		Keyspaces: []localcluster.KeyspaceSpec{
			{Name: "global", VSchema: &vschema.Keyspace{}},
			{Name: "service", Shards: 2, VSchema: &vschema.Keyspace{
				Sharded:  true,
				Vindexes: map[string]*vschema.VindexDef{"hash": {Type: "hash"}},
			}},
		},
		Replicas: 1,
		EtcdAddr: "127.0.0.1:0",
	}, func(c *localcluster.Cluster) gateway.Config {
		return gateway.Config{ListenAddr: "127.0.0.1:0", Topo: c.Store}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Stop)

	c, err := console.New(console.Config{Gateway: env.Gateway, Store: env.Cluster.Store, GatewayDSN: "root@tcp(" + env.Gateway.Addr() + ")/"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	web := httptest.NewServer(c)
	t.Cleanup(web.Close)

	db := gatewaytest.Open(t, "root@tcp("+env.Gateway.Addr()+")/service")
	gatewaytest.MustExec(t, db, "CREATE TABLE console_t (id BIGINT PRIMARY KEY, name VARCHAR(20))")
	for id := 1; id <= 10; id++ {
		gatewaytest.MustExec(t, db, "INSERT INTO console_t (id, name) VALUES (?, ?)", id, fmt.Sprint("n", id))
	}

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(chromium),
			chromedp.NoSandbox, // tests run as root in CI containers
			chromedp.WindowSize(1400, 1100),
			chromedp.UserDataDir(filepath.Join(dir, "chromium")),
		)...)
	defer cancelAlloc()
	ctx, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil { // starts chromium
		t.Fatalf("start chromium: %v", err)
	}
	browser := chromedp.FromContext(ctx).Browser.Process()
	defer func() {
		// Chromium must be gone when the test ends.
		cancel()
		cancelBrowser()
		cancelAlloc()
		waitGone(t, browser.Pid)
	}()

	if err := chromedp.Do(ctx,
		chromedp.Navigate(web.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-alias]`)),
		evalVoid(`window.notReloaded = true`),
	); err != nil {
		t.Fatalf("open the console: %v", err)
	}

	// Every shard and every tablet alias of the topology is on the page.
	snap := env.Gateway.Snapshot()
	var wantShards, wantAliases []string
	for ks, shards := range snap.Shards {
		for _, sh := range shards {
			wantShards = append(wantShards, ks+"/"+sh.Name)
		}
	}
	for _, tb := range snap.Tablets {
		wantAliases = append(wantAliases, tb.Alias.String())
	}
	gotShards, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("tr[data-shard]")].map(e => e.dataset.shard)`))
	if err != nil {
		t.Fatal(err)
	}
	gotAliases, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("tr[data-alias]")].map(e => e.firstChild.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(wantShards)
	slices.Sort(wantAliases)
	slices.Sort(gotShards)
	slices.Sort(gotAliases)
	if !slices.Equal(gotShards, wantShards) {
		t.Errorf("shards on the page: got %v, want %v", gotShards, wantShards)
	}
	if !slices.Equal(gotAliases, wantAliases) || len(wantAliases) != 6 {
		t.Errorf("tablet aliases on the page: got %v, want %v (3 shards, a primary and a replica each)", gotAliases, wantAliases)
	}

	// A workload: its digest appears, then its count rises, no reload.
	const digestText = "SELECT name FROM console_t WHERE id = ?"
	pointSelects(t, db, 20)
	id := digestID(t, env.Gateway, digestText)
	row := fmt.Sprintf(`tr[data-digest=%q] td.count`, id)
	first := waitCount(t, ctx, row, 20)
	pointSelects(t, db, 15)
	waitCount(t, ctx, row, first+15)
	if still, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.notReloaded === true`)); err != nil || !still {
		t.Errorf("the page reloaded (marker %v, err %v); the counts must update in place", still, err)
	}

	// The VEXPLAIN box.
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`#vx-keyspace`), "service"),
		chromedp.SetValue(chromedp.CSS(`#vx-query`), "select name from console_t where id = 3"),
		chromedp.Click(chromedp.CSS(`#vx-run`)),
		chromedp.WaitVisible(chromedp.CSS(`#vx-out[data-state]`)),
	); err != nil {
		t.Fatalf("VEXPLAIN box: %v", err)
	}
	out, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#vx-out`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "EqualUnique") || !strings.Contains(out, "VEXPLAIN PLAN") {
		t.Errorf("VEXPLAIN box shows %q, want the plan of a point select (EqualUnique)", out)
	}

	// The screenshot is not blank.
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if v := lumaVariance(img); v < 100 {
		t.Errorf("screenshot luminance variance %.1f: the page looks blank", v)
	}
	if *screenshotPath != "" {
		if err := os.WriteFile(*screenshotPath, shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func pointSelects(t *testing.T, db *sql.DB, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		var name string
		if err := db.QueryRow("SELECT name FROM console_t WHERE id = " + strconv.Itoa(1+i%10)).Scan(&name); err != nil {
			t.Fatal(err)
		}
	}
}

// digestID is the id the gateway gave a digest's text.
func digestID(t *testing.T, gw *gateway.Server, text string) string {
	t.Helper()
	for _, q := range gw.QueryStats(0) {
		if q.Text == text {
			return q.ID
		}
	}
	t.Fatalf("no digest %q among %+v", text, gw.QueryStats(0))
	return ""
}

// waitCount waits until the page shows a count of at least want in the
// cell sel, and returns it.
func waitCount(t *testing.T, ctx context.Context, sel string, want int) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		text, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ""`, sel)))
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := strconv.Atoi(text); n >= want {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s shows %q after 30s, want a count >= %d", sel, text, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// lumaVariance is the variance of the image's luminance: a blank page
// has (close to) none.
func lumaVariance(img image.Image) float64 {
	b := img.Bounds()
	var sum, sq, n float64
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			l := (0.299*float64(r) + 0.587*float64(g) + 0.114*float64(bl)) / 257
			sum += l
			sq += l * l
			n++
		}
	}
	mean := sum / n
	return sq/n - mean*mean
}

// waitGone waits for the browser process to have exited.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := syscall.Kill(pid, 0)
		if errors.Is(err, syscall.ESRCH) {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("chromium (pid %d) still runs after the test", pid)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// evalVoid runs a script for its effect.
func evalVoid(script string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Evaluate[any](script)(ctx, t)
		return chromedp.Void{}, err
	}
}
