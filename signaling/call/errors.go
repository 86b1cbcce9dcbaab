package call

// Error codes of failed acks.
const (
	CodeBadRequest   = "bad_request"
	CodeNotInRoom    = "not_in_room"
	CodeRoomFull     = "room_full"
	CodeRateLimited  = "rate_limited"
	CodeTooManyRooms = "too_many_rooms"
	CodeUnavailable  = "unavailable"
	CodeBadPasscode  = "bad_passcode"
	CodeNameTaken    = "name_taken"
)

var codes = []string{CodeBadRequest, CodeNotInRoom, CodeRoomFull, CodeRateLimited, CodeTooManyRooms, CodeUnavailable,
	CodeBadPasscode, CodeNameTaken}

// Error is a failed ack's error: {code, message}.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errorf(code, msg string) *Error { return &Error{Code: code, Message: msg} }
