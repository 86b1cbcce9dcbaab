package web

import "strconv"

// pageData is what every page template gets. Strings are already formatted
// for attributes.
type pageData struct {
	Title          string
	Kind           string // "home", "room" or "error": data-page on <body>
	Room           string // room name on the call page
	SignalingPath  string
	MaxRoomSize    string
	StatsMillis    string
	MaxRoomLen     int
	MaxNameLen     int
	MaxPasscodeLen int
	MaxChatLen     int
	HideRoomList   bool // no public room list on the home page
	asset          func(name string) string
}

func (p pageData) pageTitle() string {
	switch p.Kind {
	case "room":
		return p.Room + " · " + p.Title
	case "error":
		return "Error · " + p.Title
	}
	return p.Title
}

func itoa(n int) string { return strconv.Itoa(n) }
