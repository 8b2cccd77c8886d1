"""indexlake: custom equity indexes maintained from daily prices and market caps."""

__version__ = "0.1.0"
