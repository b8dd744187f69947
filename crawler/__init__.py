"""newsmirror: archive a news outlet across its primary and mirror domains."""

__version__ = "0.1.0"
