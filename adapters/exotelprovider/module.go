package exotelprovider

import "go.uber.org/fx"

// Module provides *Carrier from a Config supplied by the application's wiring.
var Module = fx.Module("exotelprovider", fx.Provide(New))
