// Package log is runsc's leveled logger. Messages go to an Emitter; the
// text emitter writes human-readable lines and the JSON emitter writes the
// one-object-a-line form that containerd and Docker read from --log:
//
//	{"level":"error","msg":"...","time":"2006-01-02T15:04:05Z"}
package log

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Level is a message's severity.
type Level int

// Levels, from least to most severe.
const (
	Debug Level = iota
	Info
	Warning
	Error
)

// String returns the level's name as written in JSON logs.
func (l Level) String() string {
	switch l {
	case Debug:
		return "debug"
	case Info:
		return "info"
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return fmt.Sprintf("level(%d)", int(l))
}

// Emitter writes one formatted message.
type Emitter interface {
	Emit(level Level, t time.Time, msg string)
}

// Writer is an io.Writer guarded by a mutex so concurrent messages do not
// interleave.
type Writer struct {
	mu sync.Mutex
	W  io.Writer
}

// Write writes p whole under the lock.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.W.Write(p)
}

// TextEmitter writes "LEVEL TIME msg" lines.
type TextEmitter struct {
	W io.Writer
}

// Emit implements Emitter.
func (e TextEmitter) Emit(level Level, t time.Time, msg string) {
	fmt.Fprintf(e.W, "%s %s [%d] %s\n", levelLetter(level), t.Format("0102 15:04:05.000000"), os.Getpid(), msg)
}

func levelLetter(l Level) string {
	switch l {
	case Debug:
		return "D"
	case Info:
		return "I"
	case Warning:
		return "W"
	}
	return "E"
}

// JSONEmitter writes one JSON object a line with the keys level, msg and
// time (RFC 3339), as runc does for containerd's shim.
type JSONEmitter struct {
	W io.Writer
}

type jsonLine struct {
	Level string `json:"level"`
	Msg   string `json:"msg"`
	Time  string `json:"time"`
}

// Emit implements Emitter.
func (e JSONEmitter) Emit(level Level, t time.Time, msg string) {
	b, err := json.Marshal(jsonLine{Level: level.String(), Msg: msg, Time: t.UTC().Format(time.RFC3339)})
	if err != nil {
		return
	}
	e.W.Write(append(b, '\n'))
}

// MultiEmitter sends every message to each of its emitters.
type MultiEmitter []Emitter

// Emit implements Emitter.
func (m MultiEmitter) Emit(level Level, t time.Time, msg string) {
	for _, e := range m {
		e.Emit(level, t, msg)
	}
}

// Logger filters messages below its level and hands the rest to an emitter.
type Logger struct {
	mu      sync.RWMutex
	level   Level
	emitter Emitter
}

// SetLevel sets the minimum level emitted.
func (l *Logger) SetLevel(level Level) {
	l.mu.Lock()
	l.level = level
	l.mu.Unlock()
}

// SetEmitter replaces the emitter; nil discards everything.
func (l *Logger) SetEmitter(e Emitter) {
	l.mu.Lock()
	l.emitter = e
	l.mu.Unlock()
}

// IsLogging reports whether a message at level would be emitted.
func (l *Logger) IsLogging(level Level) bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.emitter != nil && level >= l.level
}

// Logf emits a formatted message at level.
func (l *Logger) Logf(level Level, format string, args ...any) {
	l.mu.RLock()
	e, min := l.emitter, l.level
	l.mu.RUnlock()
	if e == nil || level < min {
		return
	}
	e.Emit(level, time.Now(), fmt.Sprintf(format, args...))
}

var std = &Logger{level: Info, emitter: TextEmitter{W: &Writer{W: os.Stderr}}}

// Default returns the process-wide logger.
func Default() *Logger { return std }

// SetLevel sets the default logger's level.
func SetLevel(level Level) { std.SetLevel(level) }

// SetEmitter sets the default logger's emitter.
func SetEmitter(e Emitter) { std.SetEmitter(e) }

// IsLogging reports whether the default logger emits level.
func IsLogging(level Level) bool { return std.IsLogging(level) }

// Debugf logs at debug level.
func Debugf(format string, args ...any) { std.Logf(Debug, format, args...) }

// Infof logs at info level.
func Infof(format string, args ...any) { std.Logf(Info, format, args...) }

// Warningf logs at warning level.
func Warningf(format string, args ...any) { std.Logf(Warning, format, args...) }

// Errorf logs at error level.
func Errorf(format string, args ...any) { std.Logf(Error, format, args...) }
