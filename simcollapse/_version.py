"""The package version (one place; the package, provenance and stored tables read it)."""

__version__ = "0.2.0"
