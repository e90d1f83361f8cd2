"""forge: push large batches of text through LLM provider APIs fast, cheaply and without losing anything."""

__version__ = "0.1.0"
