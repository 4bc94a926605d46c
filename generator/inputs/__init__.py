"""Inputs: reading the district's spreadsheets and state directories, normalizing and validating them."""
