package call

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Zero-width joiners: format characters (Cf) that emoji sequences and some
// scripts need. Every other format character (the bidi controls U+200E,
// U+200F, U+202A–U+202E and U+2066–U+2069, U+FEFF, soft hyphen...) is
// refused: they can make a name or a message read differently from what it
// is.
const (
	zwnj = '\u200C'
	zwj  = '\u200D'
)

// validText checks a name, room name or passcode: 1 to max characters of
// valid UTF-8, each printable (letters, marks, numbers, punctuation,
// symbols, the ASCII space, and the zero-width joiners), no leading or
// trailing space.
func validText(s string, max int) bool {
	if !validRunes(s, max, func(r rune) bool { return unicode.IsPrint(r) || r == zwnj || r == zwj }) {
		return false
	}
	return strings.TrimSpace(s) == s
}

// validChat checks a chat message: 1 to MaxChatLen characters of valid
// UTF-8, graphic characters (printable ones and every kind of space) and
// the zero-width joiners: no control characters, no other format ones.
func validChat(s string) bool {
	return validRunes(s, MaxChatLen, func(r rune) bool { return unicode.IsGraphic(r) || r == zwnj || r == zwj })
}

func validRunes(s string, max int, ok func(rune) bool) bool {
	if !utf8.ValidString(s) {
		return false
	}
	n := 0
	for _, r := range s {
		n++
		if n > max || !ok(r) {
			return false
		}
	}
	return n >= 1
}
