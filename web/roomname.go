package web

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// ValidateRoomName reports whether name is a valid room name: valid UTF-8,
// 1 to 64 characters, each printable (unicode.IsPrint: letters, marks,
// numbers, punctuation, symbols and the ASCII space), without leading or
// trailing spaces. The browser applies the same rule before navigating.
func ValidateRoomName(name string) error {
	if !utf8.ValidString(name) {
		return fmt.Errorf("%w: not valid UTF-8", ErrInvalidRoomName)
	}
	n := utf8.RuneCountInString(name)
	if n < 1 || n > MaxRoomNameLen {
		return fmt.Errorf("%w: length %d is outside 1..%d", ErrInvalidRoomName, n, MaxRoomNameLen)
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("%w: character %U is not printable", ErrInvalidRoomName, r)
		}
	}
	if name[0] == ' ' || name[len(name)-1] == ' ' {
		return fmt.Errorf("%w: leading or trailing space", ErrInvalidRoomName)
	}
	return nil
}
