// Package theme holds Noom's palette and base CSS (theme.css), shared by
// the call app (package web) and the admin console (package admin), each
// of which serves it beside its own stylesheet. It is read-only data.
package theme

import _ "embed"

// CSS is theme.css: the color variables for light and dark, the font and
// the base rules. Link it before a component's own stylesheet.
//
//go:embed theme.css
var CSS []byte
