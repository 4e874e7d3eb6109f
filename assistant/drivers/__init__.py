"""Focus drivers: the engine speaks dioptres, each driver its own native units."""
