"""TrustBubble: a node for technical bubbles of trust between states, CERTs and operators."""

__version__ = "0.1.0"
