package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/noomrtc/noom/web"
)

// The zero Config serves the app with its defaults; mount the Handler at "/"
// and at the client library's path, next to the signaling server.
func ExampleNew() {
	app, err := web.New(web.Config{MaxRoomSize: 6})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	// mux.Handle("/socket.io/", hub) // the signaling server
	mux.Handle("/socket.io/socket.io.js", app)
	mux.Handle("/", app)

	for _, path := range []string{"/", "/room/standup", "/socket.io/socket.io.js", "/elsewhere"} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		line := fmt.Sprint(path, " ", rec.Code, " ", rec.Header().Get("Content-Type"), " ", rec.Header().Get("Location"))
		fmt.Println(strings.TrimSpace(line))
	}
	// Output:
	// / 200 text/html; charset=utf-8
	// /room/standup 200 text/html; charset=utf-8
	// /socket.io/socket.io.js 200 text/javascript; charset=utf-8
	// /elsewhere 303 text/html; charset=utf-8 /
}
