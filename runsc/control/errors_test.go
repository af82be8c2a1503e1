package control

import (
	"errors"
	"fmt"
	"os"
	"testing"
)

// TestErrorCodeCrossesTheSocket checks that an ErrExecutableNotFound
// survives a hop over a socket, however wrapped, with its text intact, and
// that another error does not become one.
func TestErrorCodeCrossesTheSocket(t *testing.T) {
	for _, tc := range []struct {
		err      error
		notFound bool
	}{
		{fmt.Errorf("process.args[0] %q: %w in $PATH", "nope", ErrExecutableNotFound), true},
		{fmt.Errorf("preparing: %w", NotFound(fmt.Errorf("process.args[0] %q: %w", "/nope", os.ErrNotExist))), true},
		{fmt.Errorf("process.args[0] %q: permission denied", "/etc"), false},
		{errors.New("executable file not found"), false}, // the text alone is not the sentinel
	} {
		a, b, err := Pair()
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Send(ErrorMessage(tc.err)); err != nil {
			t.Fatal(err)
		}
		bc, err := FileConn(b)
		if err != nil {
			t.Fatal(err)
		}
		m, err := bc.Recv()
		a.Close()
		bc.Close()
		if err != nil {
			t.Fatal(err)
		}
		got := fmt.Errorf("creating container: %w", m.AsError())
		if want := "creating container: " + tc.err.Error(); got.Error() != want {
			t.Errorf("text %q, want %q", got, want)
		}
		if errors.Is(got, ErrExecutableNotFound) != tc.notFound {
			t.Errorf("%q: errors.Is(ErrExecutableNotFound) = %v, want %v", tc.err, !tc.notFound, tc.notFound)
		}
		if tc.notFound && errors.Is(got, os.ErrNotExist) {
			t.Errorf("%q: the far side's os.ErrNotExist must not survive the hop as a value", tc.err)
		}
	}
}
