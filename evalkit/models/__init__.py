"""Model backends: one module per backend, each registering itself (spec prefix, options, loader).

``base`` is the adapter protocol (requests in, generations out), ``registry`` finds the backends and turns a
model spec into an adapter; ``hf``, ``internvl``, ``openai``, ``vllm``, ``vlmeval`` and ``tiny`` are the
backends; ``hf_support``, ``internvl_prompt``, ``transformers_compat``, ``http_client`` and ``vlmeval_support``
what they share.
"""
