"""emosim: multi-agent simulation of emotionally-aware conversations for LoRA training data."""

__version__ = "0.1.0"
