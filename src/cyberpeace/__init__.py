"""cyberpeace: the operations platform of a cyber peacekeeping mission."""

__version__ = "0.1.0"

__all__ = ["__version__"]
