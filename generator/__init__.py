"""Plan packets: a district's spreadsheets to school-improvement plan packets."""

__version__ = "0.2.0"
