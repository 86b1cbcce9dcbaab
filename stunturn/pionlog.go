package stunturn

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pion/logging"
)

// Levels pion's messages map to. pion logs per packet at Debug and Trace,
// and per client event at Info ("permission denied", "no permission");
// its Error messages are about one client, not the server.
const (
	levelPionTrace = slog.LevelDebug - 8
	levelPionDebug = slog.LevelDebug - 4
	levelPionInfo  = slog.LevelDebug
	levelPionWarn  = slog.LevelWarn
	levelPionError = slog.LevelWarn
)

// pionLoggerFactory adapts slog to pion's logging.LoggerFactory.
type pionLoggerFactory struct{ log *slog.Logger }

func (f pionLoggerFactory) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{log: f.log.With("pion", scope)}
}

// pionLogger formats a message only when its level is enabled: pion calls
// Debugf for every packet.
type pionLogger struct{ log *slog.Logger }

func (l pionLogger) emit(level slog.Level, msg string) {
	if ctx := context.Background(); l.log.Enabled(ctx, level) {
		l.log.Log(ctx, level, msg)
	}
}

func (l pionLogger) emitf(level slog.Level, format string, args ...any) {
	if ctx := context.Background(); l.log.Enabled(ctx, level) {
		l.log.Log(ctx, level, fmt.Sprintf(format, args...))
	}
}

func (l pionLogger) Trace(msg string)                  { l.emit(levelPionTrace, msg) }
func (l pionLogger) Tracef(format string, args ...any) { l.emitf(levelPionTrace, format, args...) }
func (l pionLogger) Debug(msg string)                  { l.emit(levelPionDebug, msg) }
func (l pionLogger) Debugf(format string, args ...any) { l.emitf(levelPionDebug, format, args...) }
func (l pionLogger) Info(msg string)                   { l.emit(levelPionInfo, msg) }
func (l pionLogger) Infof(format string, args ...any)  { l.emitf(levelPionInfo, format, args...) }
func (l pionLogger) Warn(msg string)                   { l.emit(levelPionWarn, msg) }
func (l pionLogger) Warnf(format string, args ...any)  { l.emitf(levelPionWarn, format, args...) }
func (l pionLogger) Error(msg string)                  { l.emit(levelPionError, msg) }
func (l pionLogger) Errorf(format string, args ...any) { l.emitf(levelPionError, format, args...) }
