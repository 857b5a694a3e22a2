"""gospulse around its pure engine.

- ``streams.core`` — the engine: time and windows, public state, tables, the state codec and layout,
  the registry. No Faust, Kafka, Redis or HTTP.
- ``streams.pipeline`` — Kafka messages to the engine to a store, dead letters, change sinks;
  ``streams.serving`` the Redis tables; ``streams.replay`` offline replay.
- ``streams.settings`` — every command's settings in one table; ``streams.topics`` and
  ``streams.kafka_client`` the Kafka side.
- ``streams.produce`` — batching, publish, synthetic publics, the simulator.
- ``streams.local`` — the embedded broker and Redis, and ``gospulse up``.
- ``streams.ports`` — local ports (free, taken).

The Faust edge is the ``agents`` package; the ``gospulse`` command, above both, is the ``gospulse``
package. Nothing here imports either (``tests/test_layers.py``).
"""
