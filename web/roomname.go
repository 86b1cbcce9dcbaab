package web

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// ValidateRoomName reports whether name is a valid room name: valid UTF-8,
// 1 to 64 characters, each printable (unicode.IsPrint: letters, marks,
// numbers, punctuation, symbols and the ASCII space, plus the zero-width
// joiners U+200C and U+200D that emoji and some scripts need), without
// leading or trailing spaces. Control and other format characters (the bidi
// controls U+202A–U+202E, U+2066–U+2069, U+200E, U+200F...) are refused.
// The browser and the call protocol apply the same rule.
func ValidateRoomName(name string) error {
	if !utf8.ValidString(name) {
		return fmt.Errorf("%w: not valid UTF-8", ErrInvalidRoomName)
	}
	n := utf8.RuneCountInString(name)
	if n < 1 || n > MaxRoomNameLen {
		return fmt.Errorf("%w: length %d is outside 1..%d", ErrInvalidRoomName, n, MaxRoomNameLen)
	}
	for _, r := range name {
		if !unicode.IsPrint(r) && r != '\u200C' && r != '\u200D' {
			return fmt.Errorf("%w: character %U is not printable", ErrInvalidRoomName, r)
		}
	}
	if name[0] == ' ' || name[len(name)-1] == ' ' {
		return fmt.Errorf("%w: leading or trailing space", ErrInvalidRoomName)
	}
	return nil
}
