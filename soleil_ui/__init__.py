"""SOLEil core: settings, database, services, chart sources and rendering. Knows nothing of NiceGUI."""

__version__ = "0.1.0"
