package app

import (
	"go.uber.org/fx"

	"github.com/kupe-voice/kupe/configs"
)

// Config provides c, loaded and validated once by the caller, and its parts: nothing else
// reads the environment.
func Config(c configs.Config) fx.Option {
	return fx.Module("config",
		fx.Supply(c),
		fx.Provide(
			func(c configs.Config) configs.HTTPConfig { return c.HTTP },
			func(c configs.Config) configs.DBConfig { return c.Database },
			func(c configs.Config) configs.CarriersConfig { return c.Carriers },
			func(c configs.Config) configs.AuthConfig { return c.Auth },
		),
	)
}
