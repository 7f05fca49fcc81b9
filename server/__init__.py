"""xieshang server: scheduling, live rooms and the record of proposal consultations."""

__version__ = "0.1.0"
