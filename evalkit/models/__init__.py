"""Model adapters: one module per backend, all behind :class:`evalkit.models.base.ModelAdapter`."""
