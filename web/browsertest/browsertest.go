// Package browsertest drives a headless Debian Chromium from Go tests through
// the DevTools protocol (github.com/chromedp/chromedp).
//
// Start launches one browser per test (fresh temporary profile, fake camera
// and microphone, no network beyond what the page asks for); NewPage opens a
// tab. Page has the few helpers the Noom browser tests need: navigate, run
// JavaScript (promises are awaited), wait for a condition, click and type by
// CSS selector, collect console errors, and save a screenshot.
//
// When no Chromium is installed the test is skipped with a loud message, or
// fails when the environment variable CI is set (install it with
// `apt-get install -y chromium`). CHROMIUM overrides the executable path.
//
// A Browser and its Pages belong to one test goroutine; everything is torn
// down by t.Cleanup.
package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// DefaultPath is where Debian's chromium package installs the browser.
const DefaultPath = "/usr/bin/chromium"

// Options configures Start. The zero value is ready to use.
type Options struct {
	// ExecPath is the browser executable. Default: $CHROMIUM, then
	// /usr/bin/chromium, then chromium / chromium-browser / google-chrome on
	// $PATH.
	ExecPath string

	// Width and Height are the window size. Default 1280x800.
	Width, Height int

	// Flags are extra command-line switches (name without "--"; value true
	// for a bare switch). They override the defaults.
	Flags map[string]any

	// Timeout bounds each helper call (Navigate, Eval, Click...). Default 20s.
	Timeout time.Duration
}

// Flags every browser gets: headless, sandbox-free (we run as root in CI),
// quiet (no background traffic), with a fake camera and microphone that are
// granted without a prompt, and autoplay allowed.
var defaultFlags = map[string]any{
	"headless":                               true,
	"no-sandbox":                             true,
	"disable-gpu":                            true,
	"disable-quic":                           true,
	"no-first-run":                           true,
	"no-default-browser-check":               true,
	"disable-background-networking":          true,
	"disable-component-update":               true,
	"disable-sync":                           true,
	"disable-dev-shm-usage":                  true,
	"use-fake-device-for-media-stream":       true,
	"use-fake-ui-for-media-stream":           true,
	"autoplay-policy":                        "no-user-gesture-required",
	"mute-audio":                             true,
	"disable-background-timer-throttling":    true,
	"disable-backgrounding-occluded-windows": true,
	"disable-renderer-backgrounding":         true,
	"disable-features":                       "Translate,MediaRouter,OptimizationHints",
	"password-store":                         "basic",
	"use-mock-keychain":                      true,
}

// Browser is one running Chromium.
type Browser struct {
	t       testing.TB
	ctx     context.Context // browser-level chromedp context
	timeout time.Duration
}

// FindChromium returns the browser executable, or "" when there is none.
func FindChromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	if _, err := os.Stat(DefaultPath); err == nil {
		return DefaultPath
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// RequireChromium returns the browser path. Without one it skips the test
// with a loud message, or fails it when the environment variable CI is set.
func RequireChromium(t testing.TB) string {
	t.Helper()
	p := FindChromium()
	if p != "" {
		return p
	}
	msg := "!!! browsertest: Chromium NOT FOUND (looked at $CHROMIUM, " + DefaultPath +
		", $PATH). Install it: apt-get install -y chromium"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// Start launches a headless Chromium with a fresh temporary profile. It is
// stopped when the test ends.
func Start(t testing.TB, opts Options) *Browser {
	t.Helper()
	path := opts.ExecPath
	if path == "" {
		path = RequireChromium(t)
	}
	if opts.Width == 0 {
		opts.Width = 1280
	}
	if opts.Height == 0 {
		opts.Height = 800
	}
	if opts.Timeout == 0 {
		opts.Timeout = 20 * time.Second
	}
	profile := t.TempDir()

	allocOpts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(filepath.Join(profile, "profile")),
		chromedp.WindowSize(opts.Width, opts.Height),
	}
	flags := map[string]any{}
	for k, v := range defaultFlags {
		flags[k] = v
	}
	for k, v := range opts.Flags {
		flags[k] = v
	}
	for k, v := range flags {
		allocOpts = append(allocOpts, chromedp.Flag(k, v))
	}

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), allocOpts...)
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithLogf(func(string, ...any) {}))
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first Do starts the browser; it must not run under a timeout.
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("browsertest: start %s: %v", path, err)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("browsertest: %s did not start within 60s", path)
	}
	return &Browser{t: t, ctx: ctx, timeout: opts.Timeout}
}

// Page is one browser tab.
type Page struct {
	t       testing.TB
	ctx     context.Context
	timeout time.Duration

	mu       sync.Mutex
	messages []string // console output and exceptions, in order
}

// NewPage opens a new tab. The first tab of a browser reuses the blank tab
// the browser started with.
func (b *Browser) NewPage() *Page {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	b.t.Cleanup(cancel)
	p := &Page{t: b.t, ctx: ctx, timeout: b.timeout}
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("browsertest: open tab: %v", err)
	}
	if err := chromedp.Listen(ctx, p.record); err != nil {
		b.t.Fatalf("browsertest: listen: %v", err)
	}
	return p
}

// record keeps console messages, log entries (CSP violations land there)
// and uncaught exceptions. It runs in chromedp's reader loop: no blocking.
func (p *Page) record(ev any) {
	var line string
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		parts := make([]string, 0, len(e.Args))
		for _, a := range e.Args {
			if a.Value != nil {
				parts = append(parts, string(a.Value))
			} else {
				parts = append(parts, a.Description)
			}
		}
		line = "console." + string(e.Type) + ": " + strings.Join(parts, " ")
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		line = "exception: " + d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			line += " " + d.Exception.Description
		}
	case *log.EventEntryAdded:
		line = "log." + string(e.Entry.Level) + " [" + string(e.Entry.Source) + "]: " + e.Entry.Text
		if e.Entry.URL != "" {
			line += " (" + e.Entry.URL + ")"
		}
	default:
		return
	}
	p.mu.Lock()
	p.messages = append(p.messages, line)
	p.mu.Unlock()
}

// Messages returns the console lines, log entries and exceptions seen so far.
func (p *Page) Messages() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.messages...)
}

// Errors returns the Messages that are errors: uncaught exceptions,
// console.error, and error-level log entries (CSP violations, failed loads).
func (p *Page) Errors() []string {
	var out []string
	for _, m := range p.Messages() {
		if strings.HasPrefix(m, "exception:") || strings.HasPrefix(m, "console.error") || strings.HasPrefix(m, "log.error") {
			out = append(out, m)
		}
	}
	return out
}

// Context returns the tab's chromedp context for actions the helpers do not
// cover. Derive per-call timeouts from it; never cancel it.
func (p *Page) Context() context.Context { return p.ctx }

func (p *Page) do(actions ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(p.ctx, p.timeout)
	defer cancel()
	return chromedp.Do(ctx, actions...)
}

// Navigate loads url and waits for the load event.
func (p *Page) Navigate(url string) error {
	if err := p.do(chromedp.Navigate(url)); err != nil {
		return fmt.Errorf("navigate %s: %w", url, err)
	}
	return nil
}

// Eval evaluates a JavaScript expression, awaits it if it is a promise, and
// decodes the JSON value into out (nil to ignore the result).
func (p *Page) Eval(expr string, out any) error {
	ctx, cancel := context.WithTimeout(p.ctx, p.timeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		return fmt.Errorf("eval %q: %w", short(expr), err)
	}
	if out == nil {
		return nil
	}
	if len(raw) == 0 {
		raw = []byte("null")
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("eval %q: decode %s: %w", short(expr), short(string(raw)), err)
	}
	return nil
}

// WaitFor evaluates expr every 100ms until it is truthy, for at most timeout.
// The error shows the last value and the page's errors.
func (p *Page) WaitFor(expr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last json.RawMessage
	var lastErr error
	for {
		var v json.RawMessage
		lastErr = p.Eval("(async () => { const v = await ("+expr+"); return v === undefined ? null : v; })()", &v)
		if lastErr == nil {
			last = v
			if truthy(v) {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("wait for %q: still %s after %v (last error: %v; page errors: %q)",
				short(expr), short(string(last)), timeout, lastErr, p.Errors())
		}
		select {
		case <-p.ctx.Done():
			return p.ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func truthy(v json.RawMessage) bool {
	s := strings.TrimSpace(string(v))
	switch s {
	case "", "null", "false", "0", `""`, "-0":
		return false
	}
	return true
}

// Click clicks the first element matching the CSS selector.
func (p *Page) Click(selector string) error {
	if err := p.do(chromedp.Click(chromedp.CSS(selector))); err != nil {
		return fmt.Errorf("click %s: %w", selector, err)
	}
	return nil
}

// SetValue replaces the value of an input and fires "input" and "change"
// like typing would.
func (p *Page) SetValue(selector, value string) error {
	sel, _ := json.Marshal(selector)
	val, _ := json.Marshal(value)
	return p.Eval(`(() => {
		const el = document.querySelector(`+string(sel)+`);
		if (!el) throw new Error("no element " + `+string(sel)+`);
		el.focus();
		el.value = `+string(val)+`;
		el.dispatchEvent(new Event("input", {bubbles: true}));
		el.dispatchEvent(new Event("change", {bubbles: true}));
		return true;
	})()`, nil)
}

// Type sends key strokes to the element (focusing it first).
func (p *Page) Type(selector, text string) error {
	if err := p.do(chromedp.SendKeys(chromedp.CSS(selector), text)); err != nil {
		return fmt.Errorf("type into %s: %w", selector, err)
	}
	return nil
}

// SetViewport emulates a viewport (for phone-sized screenshots, say).
func (p *Page) SetViewport(width, height int, mobile bool) error {
	var opts []chromedp.EmulateViewportOption
	if mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
	}
	return p.do(chromedp.EmulateViewport(int64(width), int64(height), opts...))
}

// Screenshot saves a PNG of the whole page to path, creating its directory.
func (p *Page) Screenshot(path string) error {
	ctx, cancel := context.WithTimeout(p.ctx, p.timeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return fmt.Errorf("screenshot: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, png, 0o644)
}

// ArtifactPath returns where a test should save a screenshot named name:
// under $NOOM_ARTIFACTS (or the repository's .artifacts/ when CI is set) if
// either applies, else under the test's temporary directory.
func ArtifactPath(t testing.TB, name string) string {
	dir := os.Getenv("NOOM_ARTIFACTS")
	if dir == "" && os.Getenv("CI") != "" {
		if root, err := repoRoot(); err == nil {
			dir = filepath.Join(root, ".artifacts")
		}
	}
	if dir == "" {
		dir = t.TempDir()
	}
	safe := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	return filepath.Join(dir, "screenshots", safe+"-"+name)
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

func short(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 120 {
		return s[:117] + "..."
	}
	return s
}
