// Package admin is Noom's admin console: server-rendered pages (templ, in
// views/), a JSON API under /admin/api/v1/, a live message flow over
// Server-Sent Events, and operator actions, behind a login.
//
// The console reads the hub, TURN and the call service only through the
// interfaces of package source, which cmd/noom implements; it never
// imports them. Mount a Console at /admin/ (see Console.ServeHTTP for the
// routes).
//
// # Security
//
// Browsers log in with a form (bcrypt compare; a random session id in an
// HttpOnly, SameSite=Strict cookie, Secure over https; idle and absolute
// expiry). Scripts use HTTP Basic; a success is cached for BasicCacheTTL.
// Failed log-ins are throttled per client IP and globally (429 with
// Retry-After). Every POST is refused when its Origin (or Referer) is
// foreign, and needs the session's CSRF token when it came with the
// cookie. Every answer carries a strict Content-Security-Policy (no inline
// script), frame-ancestors 'none', nosniff, no-referrer and no-store.
// Handshake secrets (Authorization, Cookie, secret-looking query
// parameters and auth payload keys) are redacted.
//
// # Concurrency
//
// A Console is safe for concurrent use. New starts one goroutine, the
// once-a-second sampler for the overview's charts, and adds an observer to
// the hub; Close removes the observer, ends every live stream and waits for
// the sampler. The observer hook never blocks: each event goes into a
// fixed-size ring (the last RingSize events) and into each live viewer's
// own bounded queue, which drops its oldest event and counts the drop when
// the viewer is behind, so a slow viewer never slows the hub.
package admin
