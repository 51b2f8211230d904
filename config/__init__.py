"""Settings: the only place that reads the environment."""

from .settings import Settings, SettingsError, load_settings

__all__ = ["Settings", "SettingsError", "load_settings"]
