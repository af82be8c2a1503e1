package control

import "errors"

// ErrExecutableNotFound is an Error whose process.args[0] does not exist
// or is not found in $PATH: `runsc do` exits 127 on it, as a shell does.
// It crosses process boundaries as Message.Code (CodeNotFound), so that
// no hop has to match the text of an error from another process.
var ErrExecutableNotFound = errors.New("executable file not found")

// CodeNotFound is Message.Code for ErrExecutableNotFound.
const CodeNotFound = "not-found"

// NotFound marks err, a failure to find process.args[0], as
// ErrExecutableNotFound without changing its text.
func NotFound(err error) error {
	return notFoundError{err}
}

type notFoundError struct{ err error }

func (e notFoundError) Error() string { return e.err.Error() }

func (e notFoundError) Unwrap() []error { return []error{e.err, ErrExecutableNotFound} }

// ErrorMessage is the Error message that reports err, with its Code.
func ErrorMessage(err error) *Message {
	m := &Message{Type: Error, Err: err.Error()}
	if errors.Is(err, ErrExecutableNotFound) {
		m.Code = CodeNotFound
	}
	return m
}

// AsError is the error an Error message reports (a *RemoteError).
func (m *Message) AsError() error {
	return &RemoteError{Msg: m.Err, Code: m.Code}
}

// RemoteError is an error reported by the other end: its text, and its
// Code as the sentinel it stands for.
type RemoteError struct {
	Msg  string
	Code string
}

// Error implements error.
func (e *RemoteError) Error() string { return e.Msg }

// Unwrap returns ErrExecutableNotFound for CodeNotFound.
func (e *RemoteError) Unwrap() error {
	if e.Code == CodeNotFound {
		return ErrExecutableNotFound
	}
	return nil
}
