"""Numeric kernels behind the strategies: what makes them fast, kept apart from what they do.

- :mod:`~alkit._kernels.screen`: half-precision screening of distance passes (exact picks);
- :mod:`~alkit._kernels.norms`: chunked row norms;
- :mod:`~alkit._kernels.rows`: float64 row buffers, materialised or recomputed block by block;
- :mod:`~alkit._kernels.kcenter`: the lazy greedy k-center (CoreSet's picks);
- :mod:`~alkit._kernels.dropout`: input-dropout masks and masked probe passes;
- :mod:`~alkit._kernels.adamw`: torch's AdamW steps without the class's import cost.

Private: the strategies in :mod:`alkit.strategies` call these; their readable references there say
what each computes. See ``docs/performance.md`` for the measurements behind the choices.
"""
