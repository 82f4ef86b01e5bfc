"""Stage 2, data: samples and the sources that produce them.

``sources`` turns a card (and the flags) into its samples and where they came from; ``vlmevalkit_tsv`` streams
VLMEvalKit TSVs with lazily decoded images, ``tsv_download`` fetches them md5-checked, ``hub_dataset`` reads
Hugging Face datasets (or a folder laid out like one), ``local_file`` reads a ``--data-file``; ``row_mapping``
turns one row into a :class:`~evalkit.data.sample.Sample` by the card's column map, and ``cells`` decides how a
cell is read (as pandas reads it, or as written), per protocol.
"""
