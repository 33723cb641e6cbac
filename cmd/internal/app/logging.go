package app

import (
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/kupe-voice/kupe/configs"
)

// Logging provides zap: console lines in development, JSON in production; fx's own events go
// through it too. It is plain options, not an fx.Module, so that its fx logger is the whole
// app's, not a module's.
var Logging = fx.Options(
	fx.Provide(NewLogger),
	fx.WithLogger(func(log *zap.Logger) fxevent.Logger {
		l := &fxevent.ZapLogger{Logger: log.Named("fx")}
		l.UseLogLevel(zapcore.DebugLevel)
		return quietFailures{l} // errors.go: the command prints a failure's root cause once
	}),
)

// NewLogger builds the service's logger from the configuration.
func NewLogger(c configs.Config) (*zap.Logger, error) {
	level, err := zapcore.ParseLevel(c.LogLevel)
	if err != nil {
		return nil, err
	}
	var zc zap.Config
	if c.Env == "production" {
		zc = zap.NewProductionConfig()
	} else {
		zc = zap.NewDevelopmentConfig()
		zc.DisableStacktrace = true
	}
	zc.Level = zap.NewAtomicLevelAt(level)
	zc.OutputPaths = []string{"stderr"}
	return zc.Build()
}
