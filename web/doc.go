// Package web serves the Noom video-call web app: the home page (nickname,
// live list of public rooms), the call page for one room, the embedded
// static assets (JavaScript, CSS, icons) and Noom's own browser Socket.IO
// client library.
//
// The pages are rendered with templ (see *.templ; the generated *_templ.go
// files are committed). All behaviour in the browser is our own plain
// JavaScript under static/, served with go:embed: no bundler, no third-party
// code, no inline scripts. Configuration reaches the scripts through data-
// attributes on <body>, so the pages run under a strict Content-Security-Policy.
//
// # Routes
//
//	GET /                       home page
//	GET /room/{name}            call page (invalid names get a 400 page)
//	GET /join?room=NAME         no-JavaScript form target; redirects to /room/NAME
//	GET /static/{file}          embedded assets; ?v=<hash> URLs are immutable
//	GET {SignalingPath}socket.io.js  the browser Socket.IO client (global io())
//	    {SignalingPath}...      404: the signaling server is not mounted here
//	    anything else           303 redirect to /
//
// cmd/noom mounts the Handler at "/" and at "{SignalingPath}socket.io.js"; the
// signaling server itself owns the rest of SignalingPath.
//
// # Concurrency
//
// A Handler is immutable after New and safe for concurrent use by any number
// of goroutines. It starts no goroutines and holds no connections, so it has
// no Close.
package web
