"""The benchmark: a generated dataset at a chosen size, and measurements on it.

    python -m portal bench generate --size 10k|100k|1m   load the dataset, print a sign-in
    python -m portal bench run --size 10k|100k|1m        generate if needed, measure, write docs/performance.md
    python -m portal bench report                        rebuild docs/performance.md from docs/bench-results/

``plan`` decides the shape, ``generate`` loads it set-based, ``figures``
computes and verifies the kept figures, ``target`` picks the database,
``measure`` (SQL), ``load`` (HTTP) and ``writes`` (inserts, concurrency) take
the measurements, and ``report`` writes the results.
"""
