"""The pure engine: validated events in, tables out, state to bytes and back. Nothing here imports
Faust, Kafka clients, Redis or HTTP (``tests/streams/core/test_purity.py``), so the live worker and
offline replay run the same code."""
