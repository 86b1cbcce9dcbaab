package web

import (
	"github.com/noomrtc/noom/internal/theme"

	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var staticFS embed.FS

// contentTypes maps the extensions we ship to their Content-Type, so the
// answer does not depend on the host's mime tables.
var contentTypes = map[string]string{
	".js":          "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".ico":         "image/x-icon",
	".json":        "application/json",
	".webmanifest": "application/manifest+json",
	".txt":         "text/plain; charset=utf-8",
}

// asset is one embedded file, prepared once in New.
type asset struct {
	name        string // path below static/, e.g. "app.js"
	contentType string
	body        []byte
	gz          []byte // gzip of body, nil when it would not be smaller
	version     string // short content hash used in ?v= URLs
	etag        string // strong ETag of body
}

// assetSet holds every embedded asset by name. It is read-only after
// loadAssets returns.
type assetSet struct {
	byName map[string]*asset
}

// makeAsset prepares one asset: its version, ETag and gzip form.
func makeAsset(name, ct string, body []byte) *asset {
	sum := sha256.Sum256(body)
	a := &asset{
		name:        name,
		contentType: ct,
		body:        body,
		version:     hex.EncodeToString(sum[:6]),
		etag:        `"` + hex.EncodeToString(sum[:12]) + `"`,
	}
	if isCompressible(ct) {
		a.gz = gzipBytes(body)
	}
	return a
}

func loadAssets() (*assetSet, error) {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	set := &assetSet{byName: map[string]*asset{}}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			return fmt.Errorf("web: static/%s has no known content type", p)
		}
		body, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		a := makeAsset(p, ct, body)
		set.byName[p] = a
		return nil
	})
	// The palette and base rules shared with the admin console.
	set.byName["theme.css"] = makeAsset("theme.css", contentTypes[".css"], theme.CSS)
	if err != nil {
		return nil, err
	}
	return set, nil
}

func isCompressible(ct string) bool {
	return strings.HasPrefix(ct, "text/") || strings.Contains(ct, "json") || strings.Contains(ct, "svg")
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(b)
	_ = zw.Close()
	if buf.Len() >= len(b) {
		return nil
	}
	return buf.Bytes()
}

// url returns the cache-busting URL of the named asset: /static/NAME?v=HASH.
// It panics on an unknown name, which is a programming error caught by the
// page tests.
func (s *assetSet) url(name string) string {
	a, ok := s.byName[name]
	if !ok {
		panic("web: unknown asset " + name)
	}
	return "/static/" + a.name + "?v=" + a.version
}

// serve writes asset a. A request whose ?v= matches the content hash gets a
// year of immutable caching; any other request must revalidate with the ETag.
func (a *asset) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	if v := r.URL.Query().Get("v"); v != "" && v == a.version {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	body, etag := a.body, a.etag
	if a.gz != nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			body = a.gz
			etag = strings.TrimSuffix(a.etag, `"`) + `-gz"`
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") {
			q = strings.ReplaceAll(strings.TrimSpace(q), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}
